// Owns balance transactions: what each money movement costs and nets, in integer minor units.
import type { BalanceTransactionRecord, ChargeRecord } from './records.js';
import type { Ctx, StripeStore } from './store.js';

/** Stripe's US card pricing, 2.9% + 30, rounded half up to the minor unit without floats. */
export function processingFee(amount: number): number {
  return Math.floor((amount * 29 + 500) / 1000) + 30;
}

/** Stripe's dispute fee (USD 15.00), charged when a dispute opens. */
export const DISPUTE_FEE = 1500;

const AVAILABLE_AFTER_SECONDS = 2 * 24 * 60 * 60;

export function recordBalanceTransaction(
  store: StripeStore,
  ctx: Ctx,
  fields: Pick<
    BalanceTransactionRecord,
    'amount' | 'currency' | 'fee' | 'type' | 'reporting_category' | 'source' | 'description'
  >,
): BalanceTransactionRecord {
  return store.insert<BalanceTransactionRecord>({
    object: 'balance_transaction',
    id: store.newId('balance_transaction'),
    account: ctx.account,
    created: ctx.now,
    net: fields.amount - fields.fee,
    available_on: ctx.now + AVAILABLE_AFTER_SECONDS,
    ...fields,
  });
}

/** Records the balance transaction for captured money and links it to the charge. */
export function settleCharge(
  store: StripeStore,
  ctx: Ctx,
  charge: ChargeRecord,
  captured: number,
): ChargeRecord {
  const txn = recordBalanceTransaction(store, ctx, {
    amount: captured,
    currency: charge.currency,
    fee: processingFee(captured),
    type: 'charge',
    reporting_category: 'charge',
    source: charge.id,
    description: charge.description,
  });
  return store.update(charge, { balance_transaction: txn.id });
}
