// The row-by-row part of an erasure: each record of the customer keeps its ids, amounts, currencies and
// states, and loses what privacy.ts calls personal. A row is rewritten only when something changed.
import type { Transaction, Updateable } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { DisputeRow } from '../disputes/disputes.table.js';
import type { PaymentMethodRow } from '../payment-methods/payment-methods.table.js';
import type {
  ChargeRow,
  PaymentAttemptRow,
  PaymentIntentRow,
  RefundRow,
} from '../payments/payments.table.js';
import type { WalletRow } from '../wallets/wallets.table.js';
import { blankBillingDetails, changed, type Identifiers, scrub, scrubEvidence } from './privacy.js';
import { type ErasedTable, forgetFraudSignals, updateRecord } from './privacy.repository.js';

export interface CustomerRecords {
  methods: PaymentMethodRow[];
  intents: PaymentIntentRow[];
  charges: ChargeRow[];
  refunds: RefundRow[];
  disputes: DisputeRow[];
  wallets: WalletRow[];
  attempts: PaymentAttemptRow[];
}

const json = (value: unknown) => JSON.stringify(value);

/** An intent's stored fields without the shopper IP a confirmation may have kept there. */
function withoutShopperIp(extra: Record<string, unknown>): Record<string, unknown> {
  const { shopper_ip: _dropped, ...rest } = extra ?? {};
  return rest;
}
const text = (value: string | null, ids: Identifiers) =>
  value === null ? null : (scrub(value, ids) as string);

/** Writes those of `changes` (JSON columns given as values) that differ from `row`. */
async function rewrite<T extends ErasedTable>(
  trx: Transaction<Database>,
  table: T,
  row: { id: string } & Record<string, unknown>,
  changes: Record<string, unknown>,
  jsonColumns: readonly string[],
): Promise<void> {
  // Only the columns that change are written, so a column that was SQL null stays SQL null.
  const differing = Object.entries(changes).filter(([key, value]) => changed(row[key], value));
  if (differing.length === 0) return;
  const set = Object.fromEntries(
    differing.map(([key, value]) => [key, jsonColumns.includes(key) ? json(value) : value]),
  );
  await updateRecord(trx, table, row.id, set as Updateable<Database[T]>);
}

export async function eraseRecords(
  trx: Transaction<Database>,
  ids: Identifiers,
  now: Date,
  records: CustomerRecords,
) {
  for (const method of records.methods) {
    await rewrite(
      trx,
      'payment_methods',
      method,
      {
        billing_details: blankBillingDetails(method.billing_details),
        metadata: {},
        paypal: method.paypal ? { ...method.paypal, payer_email: null, payer_id: null } : null,
        // The card is gone from the vault: detached, so a payment names why it cannot use it.
        detached_at: method.detached_at ?? now,
      },
      ['billing_details', 'metadata', 'paypal'],
    );
  }
  for (const intent of records.intents) {
    await rewrite(
      trx,
      'payment_intents',
      intent,
      {
        description: null,
        metadata: scrub(intent.metadata, ids),
        extra: withoutShopperIp(scrub(intent.extra, ids) as Record<string, unknown>),
        // The shopper's address (per-shopper limits, fraud rules) is personal data too.
        shopper_ip: null,
        return_url: text(intent.return_url, ids),
        last_payment_error: scrub(intent.last_payment_error, ids),
        next_action: scrub(intent.next_action, ids),
      },
      ['metadata', 'extra', 'last_payment_error', 'next_action'],
    );
  }
  await forgetFraudSignals(
    trx,
    records.intents.map((intent) => intent.id),
  );
  for (const attempt of records.attempts) {
    await rewrite(
      trx,
      'payment_attempts',
      attempt,
      { return_url: text(attempt.return_url, ids), error: scrub(attempt.error, ids) },
      ['error'],
    );
  }
  for (const charge of records.charges) {
    await rewrite(
      trx,
      'charges',
      charge,
      {
        description: null,
        metadata: scrub(charge.metadata, ids),
        card: scrub(charge.card, ids),
        failure_message: text(charge.failure_message, ids),
      },
      ['metadata', 'card'],
    );
  }
  for (const refund of records.refunds) {
    await rewrite(trx, 'refunds', refund, { metadata: scrub(refund.metadata, ids) }, ['metadata']);
  }
  for (const dispute of records.disputes) {
    await rewrite(
      trx,
      'disputes',
      dispute,
      { metadata: scrub(dispute.metadata, ids), evidence: scrubEvidence(dispute.evidence, ids, 'drop') },
      ['metadata', 'evidence'],
    );
  }
  for (const wallet of records.wallets) {
    await rewrite(trx, 'wallets', wallet, { metadata: scrub(wallet.metadata, ids) }, ['metadata']);
  }
  return {
    payment_methods: records.methods.length,
    payment_intents: records.intents.length,
    charges: records.charges.length,
    refunds: records.refunds.length,
    disputes: records.disputes.length,
    wallets: records.wallets.length,
  };
}
