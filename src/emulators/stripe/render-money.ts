// Owns the wire form of refunds, disputes, balance transactions and events.

import { EVIDENCE_FIELDS } from '../../providers/stripe/dispute-evidence.js';
import type { BalanceTransactionRecord, DisputeRecord, EventRecord, RefundRecord } from './records.js';
import { type RenderContext, renderRecord } from './render.js';

export function renderRefund(refund: RefundRecord, _context: RenderContext) {
  return {
    id: refund.id,
    object: 'refund',
    amount: refund.amount,
    balance_transaction: refund.balance_transaction,
    charge: refund.charge,
    created: refund.created,
    currency: refund.currency,
    customer: null,
    customer_account: null,
    destination_details: {
      card: {
        reference: null,
        reference_status: 'pending',
        reference_type: 'acquirer_reference_number',
        type: 'refund',
      },
      type: 'card',
    },
    metadata: refund.metadata,
    payment_intent: refund.payment_intent,
    payment_method: refund.payment_method,
    reason: refund.reason,
    receipt_number: null,
    source_transfer_reversal: null,
    status: refund.status,
    transfer_reversal: null,
    ...(refund.status === 'failed'
      ? {
          failure_balance_transaction: refund.failure_balance_transaction ?? null,
          failure_reason: refund.failure_reason ?? null,
        }
      : {}),
  };
}

const OPEN_DISPUTE: ReadonlySet<string> = new Set([
  'needs_response',
  'under_review',
  'warning_needs_response',
  'warning_under_review',
]);

export function disputeIsOpen(dispute: DisputeRecord): boolean {
  return OPEN_DISPUTE.has(dispute.status);
}

export function renderDispute(dispute: DisputeRecord, context: RenderContext) {
  const evidence: Record<string, unknown> = {};
  for (const field of EVIDENCE_FIELDS) evidence[field] = dispute.evidence[field] ?? null;
  evidence['enhanced_evidence'] = {};
  const hasEvidence = EVIDENCE_FIELDS.some((field) => dispute.evidence[field]);
  return {
    id: dispute.id,
    object: 'dispute',
    amount: dispute.amount,
    balance_transactions: dispute.balance_transaction_ids
      .map((id) => context.store.get('balance_transaction', id))
      .filter((txn) => txn !== undefined)
      .map((txn) => renderBalanceTransaction(txn, context)),
    charge: dispute.charge,
    created: dispute.created,
    currency: dispute.currency,
    enhanced_eligibility_types: [],
    evidence,
    evidence_details: {
      due_by: dispute.due_by,
      enhanced_eligibility: {},
      has_evidence: hasEvidence,
      past_due: disputeIsOpen(dispute) && context.now > dispute.due_by,
      submission_count: dispute.submission_count,
    },
    // An inquiry leaves the charge refundable (a refund is one way to answer it); a chargeback does not.
    is_charge_refundable: dispute.case_type === 'inquiry' && disputeIsOpen(dispute),
    livemode: false,
    metadata: dispute.metadata,
    payment_intent: dispute.payment_intent,
    payment_method_details: {
      card: {
        brand: dispute.brand,
        case_type: dispute.case_type ?? 'chargeback',
        network_reason_code: '10.4',
        network: dispute.brand,
      },
      type: 'card',
    },
    reason: dispute.reason,
    status: dispute.status,
  };
}

export function renderBalanceTransaction(txn: BalanceTransactionRecord, context: RenderContext) {
  return {
    id: txn.id,
    object: 'balance_transaction',
    amount: txn.amount,
    available_on: txn.available_on,
    balance_type: 'payments',
    created: txn.created,
    currency: txn.currency,
    description: txn.description,
    exchange_rate: null,
    fee: txn.fee,
    fee_details:
      txn.fee === 0
        ? []
        : [
            {
              amount: txn.fee,
              application: null,
              currency: txn.currency,
              description: txn.reporting_category === 'dispute' ? 'Dispute fee' : 'Stripe processing fees',
              type: 'stripe_fee',
            },
          ],
    net: txn.net,
    reporting_category: txn.reporting_category,
    source: txn.source,
    status: context.now >= txn.available_on ? 'available' : 'pending',
    type: txn.type,
  };
}

export function renderEvent(event: EventRecord, context: RenderContext) {
  return {
    id: event.id,
    object: 'event',
    api_version: event.api_version,
    created: event.created,
    data: {
      object: renderRecord(event.data_object, context),
      ...(event.previous_attributes ? { previous_attributes: event.previous_attributes } : {}),
    },
    livemode: false,
    pending_webhooks: context.pendingWebhooks,
    request: event.request,
    type: event.type,
  };
}
