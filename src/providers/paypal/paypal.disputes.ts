// PayPal's dispute resource (CUSTOMER.DISPUTE.* webhooks, GET /v1/customer/disputes/:id) mapped onto
// Stripe's dispute statuses. The INQUIRY stage is Stripe's inquiry (`warning_*`, no money held); a
// CHARGEBACK (or any later stage) is a chargeback. PayPal resolves in the buyer's favour by refunding
// the buyer, at either stage, so that outcome is `lost`; the seller's favour is `won` for a chargeback
// and `warning_closed` for an inquiry.
import type { ProviderDispute, ProviderDisputeStatus } from '../provider.js';
import { minorUnits } from './paypal.transformers.js';
import type { PayPalMoney } from './paypal.types.js';

interface PayPalDisputeWire {
  dispute_id?: string;
  disputed_transactions?: { seller_transaction_id?: string }[];
  reason?: string | null;
  status?: string;
  dispute_amount?: PayPalMoney;
  dispute_outcome?: { outcome_code?: string } | null;
  dispute_life_cycle_stage?: string;
  seller_response_due_date?: string | null;
}

/** Outcomes in which the buyer gets the money back. */
const BUYER_WINS = new Set(['RESOLVED_BUYER_FAVOUR', 'ACCEPTED', 'RESOLVED_WITH_PAYOUT']);

function statusOf(dispute: PayPalDisputeWire): ProviderDisputeStatus | undefined {
  const inquiry = dispute.dispute_life_cycle_stage === 'INQUIRY';
  switch (dispute.status) {
    case 'OPEN':
    case 'WAITING_FOR_SELLER_RESPONSE':
    case 'WAITING_FOR_BUYER_RESPONSE':
      return inquiry ? 'warning_needs_response' : 'needs_response';
    case 'UNDER_REVIEW':
      return inquiry ? 'warning_under_review' : 'under_review';
    case 'RESOLVED': {
      const outcome = dispute.dispute_outcome?.outcome_code;
      if (!outcome) return undefined;
      if (BUYER_WINS.has(outcome)) return 'lost';
      return inquiry ? 'warning_closed' : 'won';
    }
    default:
      return undefined;
  }
}

export function paypalDispute(resource: unknown): ProviderDispute | undefined {
  const dispute = resource as PayPalDisputeWire | null | undefined;
  if (!dispute?.dispute_id) return undefined;
  const charge = dispute.disputed_transactions?.[0]?.seller_transaction_id;
  const amount = minorUnits(dispute.dispute_amount);
  const currency = dispute.dispute_amount?.currency_code?.toLowerCase();
  const status = statusOf(dispute);
  if (!charge || amount === undefined || amount <= 0 || !currency || !status) return undefined;
  const due = dispute.seller_response_due_date ? Date.parse(dispute.seller_response_due_date) : Number.NaN;
  return {
    providerDisputeId: dispute.dispute_id,
    providerChargeId: charge,
    amount,
    currency,
    status,
    reason: dispute.reason ? dispute.reason.toLowerCase() : null,
    // PayPal's chargeback fee is not part of the dispute resource; none is posted.
    fee: 0,
    dueBy: Number.isNaN(due) ? null : new Date(due),
  };
}

/** The dispute inside a `CUSTOMER.DISPUTE.*` event. */
export function paypalDisputeOfEvent(payload: unknown): ProviderDispute | undefined {
  return paypalDispute((payload as { resource?: unknown } | null)?.resource);
}
