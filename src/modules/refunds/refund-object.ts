// The refund resource as Stripe shows it, rendered from its row.
import { unixSeconds } from '../../clock.js';
import type { RefundRow } from '../payments/payments.table.js';

export function toRefundObject(row: RefundRow) {
  return {
    id: row.id,
    object: 'refund' as const,
    amount: row.amount,
    balance_transaction: row.balance_transaction_id as string | null | Record<string, unknown>,
    charge: row.charge_id as string | Record<string, unknown>,
    created: unixSeconds(row.created_at),
    currency: row.currency,
    destination_details: { card: { type: 'refund' as const }, type: 'card' as const },
    failure_balance_transaction: row.failure_balance_transaction_id,
    failure_reason: row.failure_reason,
    metadata: row.metadata,
    payment_intent: row.payment_intent_id as string | Record<string, unknown>,
    reason: row.reason,
    receipt_number: null,
    source_transfer_reversal: null,
    status: row.status,
    transfer_reversal: null,
    customer: null,
    customer_account: null,
    payment_method: null,
  };
}

export type RefundObject = ReturnType<typeof toRefundObject>;
