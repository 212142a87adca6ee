// The dispute as our events show it: a minimal Stripe-shaped object (the disputes API comes later).
import { unixSeconds } from '../../clock.js';
import type { DisputeRow } from './disputes.table.js';

export function toDisputeObject(row: DisputeRow) {
  return {
    id: row.id,
    object: 'dispute' as const,
    amount: row.amount,
    currency: row.currency,
    charge: row.charge_id,
    payment_intent: row.payment_intent_id,
    status: row.status,
    reason: row.reason,
    created: unixSeconds(row.created_at),
    livemode: row.livemode,
    metadata: {} as Record<string, string>,
  };
}

export type DisputeObject = ReturnType<typeof toDisputeObject>;
