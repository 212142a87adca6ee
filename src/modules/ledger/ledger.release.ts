// Moves merchant pending funds whose available_on has passed to available. One posting per original
// transaction, keyed by it, so a second run (or a concurrent one) moves nothing twice; rows are claimed
// with SKIP LOCKED so concurrent runs share the work.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { PostInput } from './ledger.js';
import { claimDueAvailability, markReleased } from './ledger.repository.js';
import type { LedgerService } from './ledger.service.js';

export async function releaseDue(
  db: Kysely<Database>,
  ledger: LedgerService,
  now: Date,
  batchSize = 200,
  maxBatches = 50,
): Promise<number> {
  let moved = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    const count = await db.transaction().execute(async (trx) => {
      const due = await claimDueAvailability(trx, now, batchSize);
      if (due.length === 0) return 0;
      const postings = due.map(
        (row): PostInput => ({
          key: `release:${row.transaction_id}`,
          kind: 'release',
          source: { type: 'balance_transaction', id: row.transaction_id },
          livemode: row.livemode,
          entries: [
            {
              account: { type: 'merchant_pending', merchantId: row.merchant_id },
              amount: -row.amount,
              currency: row.currency,
            },
            {
              account: { type: 'merchant_available', merchantId: row.merchant_id },
              amount: row.amount,
              currency: row.currency,
            },
          ],
        }),
      );
      const outcomes = await ledger.postBatch(postings, trx);
      const released = outcomes.map((outcome, i) => {
        // Neither account may refuse (both may go negative): a refusal here is a bug worth failing on.
        if ('refused' in outcome) throw outcome.refused;
        return { transactionId: due[i]?.transaction_id as string, releaseId: outcome.posted.id };
      });
      await markReleased(trx, released);
      return due.length;
    });
    moved += count;
    if (count < batchSize) break;
  }
  return moved;
}
