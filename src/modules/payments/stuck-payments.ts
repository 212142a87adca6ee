// `payments_stuck_pending` (runbook 004, issue 8): attempts whose outcome is still unknown, or whose
// confirmation, capture or cancel never finished, more than 30 minutes after they started; the shopper's
// own redirect (requires_action) does not count. Read from the database on scrape, so every replica
// reports the same count (the alert takes the max), and bounded like every live-state gauge. Counts
// both modes: a test-mode payment stuck at an emulator is as much a sign of a broken path.
import type { Kysely } from 'kysely';
import client from 'prom-client';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { within } from '../../observability/metrics.js';
import { unsettledAttempt } from './payments.repository.js';

export const STUCK_AFTER_MS = 30 * 60 * 1000;

/** Unsettled attempts (the recovery job's partial index) started before `cutoff`, not at the shopper. */
export async function countStuckAttempts(db: Kysely<Database>, cutoff: Date): Promise<number> {
  const row = await db
    .selectFrom('payment_attempts')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where(unsettledAttempt)
    .where('status', '<>', 'requires_action')
    .where('created_at', '<', cutoff)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export function registerStuckPaymentsGauge(registry: client.Registry, db: Kysely<Database>, clock: Clock) {
  new client.Gauge({
    name: 'payments_stuck_pending',
    help: 'Payment attempts still waiting for their outcome (or a capture or cancel) more than 30 minutes after they started',
    registers: [registry],
    async collect() {
      const count = await within(() =>
        countStuckAttempts(db, new Date(clock.now().getTime() - STUCK_AFTER_MS)),
      );
      if (count !== undefined) this.set(count);
    },
  });
}
