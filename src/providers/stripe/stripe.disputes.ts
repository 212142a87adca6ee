// Stripe's dispute object mapped to ProviderDispute, for webhooks (charge.dispute.*) and for the
// answers to our evidence and close calls. Anything this code cannot read maps to undefined rather than
// a guess: a dispute moves money.
import type { ProviderDispute, ProviderDisputeStatus } from '../provider.js';

const STATUSES: ReadonlySet<string> = new Set<ProviderDisputeStatus>([
  'warning_needs_response',
  'warning_under_review',
  'warning_closed',
  'needs_response',
  'under_review',
  'won',
  'lost',
]);

interface StripeDisputeWire {
  object?: string;
  id?: string;
  amount?: number;
  currency?: string;
  charge?: string | { id: string } | null;
  status?: string;
  reason?: string | null;
  balance_transactions?: { amount?: number; fee?: number }[];
  evidence_details?: { due_by?: number | null } | null;
}

export function stripeDispute(object: unknown): ProviderDispute | undefined {
  const dispute = object as StripeDisputeWire | null | undefined;
  if (dispute?.object !== 'dispute' || !dispute.id || !dispute.currency) return undefined;
  if (!Number.isSafeInteger(dispute.amount) || (dispute.amount as number) <= 0) return undefined;
  if (!dispute.status || !STATUSES.has(dispute.status)) return undefined;
  const charge = typeof dispute.charge === 'string' ? dispute.charge : dispute.charge?.id;
  if (!charge) return undefined;
  // The fee comes with the withdrawal (a negative balance transaction); reinstatements carry none.
  const fee = (dispute.balance_transactions ?? [])
    .filter((txn) => (txn.amount ?? 0) < 0)
    .reduce((sum, txn) => sum + (Number.isSafeInteger(txn.fee) ? (txn.fee as number) : 0), 0);
  const dueBy = dispute.evidence_details?.due_by;
  return {
    providerDisputeId: dispute.id,
    providerChargeId: charge,
    amount: dispute.amount as number,
    currency: dispute.currency,
    status: dispute.status as ProviderDisputeStatus,
    reason: dispute.reason ?? null,
    fee,
    dueBy: typeof dueBy === 'number' ? new Date(dueBy * 1000) : null,
  };
}

/** The dispute inside a `charge.dispute.*` event payload. */
export function stripeDisputeOfEvent(payload: unknown): ProviderDispute | undefined {
  return stripeDispute((payload as { data?: { object?: unknown } } | null)?.data?.object);
}
