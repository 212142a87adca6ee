// Owns the dispute lifecycle. The dispute card opens a chargeback right after its charge is captured,
// the inquiry card (4000000000001976) an inquiry; evidence containing `winning_evidence` wins and
// `losing_evidence` loses once submitted (an inquiry then escalates to a chargeback), and whatever is
// still open when the clock passes `due_by` is decided on the evidence saved by then (none: lost), as
// Stripe submits saved evidence at the deadline. Closing (accepting) loses a chargeback and closes an
// inquiry.
import { FILE_EVIDENCE_FIELDS } from '../../providers/stripe/dispute-evidence.js';
import { DISPUTE_FEE, recordBalanceTransaction } from './balance.js';
import { invalidRequest } from './errors.js';
import { type Metadata, mergeMetadata } from './params.js';
import type { DisputeRecord } from './records.js';
import { disputeIsOpen } from './render-money.js';
import type { Ctx, StripeStore } from './store.js';

const RESPONSE_WINDOW_SECONDS = 7 * 24 * 60 * 60;

export function openDispute(
  store: StripeStore,
  ctx: Ctx,
  chargeId: string,
  kind: 'dispute' | 'inquiry' = 'dispute',
): DisputeRecord {
  const charge = store.get('charge', chargeId)!;
  const id = store.newId('dispute');
  const inquiry = kind === 'inquiry';
  const dispute = store.insert<DisputeRecord>({
    object: 'dispute',
    id,
    account: charge.account,
    created: ctx.now,
    amount: charge.amount_captured,
    currency: charge.currency,
    charge: charge.id,
    payment_intent: charge.payment_intent,
    reason: inquiry ? 'general' : 'fraudulent',
    status: inquiry ? 'warning_needs_response' : 'needs_response',
    case_type: inquiry ? 'inquiry' : 'chargeback',
    evidence: {},
    due_by: ctx.now + RESPONSE_WINDOW_SECONDS,
    submission_count: 0,
    balance_transaction_ids: [],
    metadata: {},
    brand: charge.card.brand,
  });
  const updated = store.update(charge, { dispute: dispute.id });
  // An inquiry takes no money; a chargeback takes the amount and the dispute fee at once, so its
  // `charge.dispute.created` already lists the withdrawal, as at Stripe.
  const opened = inquiry ? dispute : withdraw(store, ctx, dispute);
  store.emit('charge.dispute.created', opened, ctx);
  if (!inquiry) store.emit('charge.dispute.funds_withdrawn', opened, ctx);
  store.emit('charge.updated', updated, ctx, charge);
  return opened;
}

function withdraw(store: StripeStore, ctx: Ctx, dispute: DisputeRecord): DisputeRecord {
  const withdrawal = recordBalanceTransaction(store, ctx, {
    amount: -dispute.amount,
    currency: dispute.currency,
    fee: DISPUTE_FEE,
    type: 'adjustment',
    reporting_category: 'dispute',
    source: dispute.id,
    description: `Chargeback withdrawal for ${dispute.charge}`,
  });
  return store.update(dispute, {
    balance_transaction_ids: [...dispute.balance_transaction_ids, withdrawal.id],
  });
}

/**
 * An inquiry answered with losing evidence becomes a chargeback: the funds are withdrawn and the
 * merchant has a new window to respond, as when a card network escalates a retrieval request.
 */
function escalate(store: StripeStore, ctx: Ctx, dispute: DisputeRecord): DisputeRecord {
  const previous = dispute;
  dispute = withdraw(store, ctx, dispute);
  dispute = store.update(dispute, {
    status: 'needs_response',
    case_type: 'chargeback',
    reason: 'fraudulent',
    evidence: {},
    due_by: ctx.now + RESPONSE_WINDOW_SECONDS,
  });
  store.emit('charge.dispute.funds_withdrawn', dispute, ctx, previous);
  store.emit('charge.dispute.updated', dispute, ctx, previous);
  return dispute;
}

/** The evidence decides by its words, and by the names of the files it attaches (winning_evidence.pdf). */
function verdict(store: StripeStore, dispute: DisputeRecord): 'won' | 'lost' | null {
  const text = Object.entries(dispute.evidence)
    .map(([field, value]) =>
      value && FILE_EVIDENCE_FIELDS.has(field) ? (store.get('file', value)?.filename ?? value) : value,
    )
    .join('\n');
  if (text.includes('winning_evidence')) return 'won';
  if (text.includes('losing_evidence')) return 'lost';
  return null;
}

function assertOpen(dispute: DisputeRecord): void {
  if (!disputeIsOpen(dispute)) {
    throw invalidRequest(
      `This dispute (${dispute.id}) is already closed with status ${dispute.status}; it cannot be changed.`,
      'dispute_already_closed',
    );
  }
}

export function updateDispute(
  store: StripeStore,
  ctx: Ctx,
  dispute: DisputeRecord,
  changes: { evidence?: Record<string, string | null>; metadata?: Metadata | null; submit?: boolean },
): DisputeRecord {
  const metadataOnly = changes.evidence === undefined && !changes.submit;
  if (!metadataOnly) assertOpen(dispute);
  const previous = dispute;
  const submit = changes.submit ?? true;
  dispute = store.update(dispute, {
    evidence: changes.evidence ? { ...dispute.evidence, ...changes.evidence } : dispute.evidence,
    metadata: mergeMetadata(dispute.metadata, changes.metadata),
    ...(!metadataOnly && submit
      ? {
          status:
            dispute.case_type === 'inquiry' ? ('warning_under_review' as const) : ('under_review' as const),
          submission_count: dispute.submission_count + 1,
        }
      : {}),
  });
  store.emit('charge.dispute.updated', dispute, ctx, previous);
  if (!metadataOnly && submit) {
    const outcome = verdict(store, dispute);
    if (outcome) dispute = decide(store, ctx, dispute, outcome);
  }
  return dispute;
}

/** Accepting a dispute: the merchant concedes, so a chargeback is lost now; an inquiry just closes. */
export function closeDispute(store: StripeStore, ctx: Ctx, dispute: DisputeRecord): DisputeRecord {
  assertOpen(dispute);
  return decide(store, ctx, dispute, 'lost');
}

function decide(
  store: StripeStore,
  ctx: Ctx,
  dispute: DisputeRecord,
  outcome: 'won' | 'lost',
): DisputeRecord {
  if (dispute.case_type === 'inquiry') return decideInquiry(store, ctx, dispute, outcome);
  const previous = dispute;
  let balanceTransactionIds = dispute.balance_transaction_ids;
  if (outcome === 'won') {
    const reinstated = recordBalanceTransaction(store, ctx, {
      amount: dispute.amount,
      currency: dispute.currency,
      fee: 0,
      type: 'adjustment',
      reporting_category: 'dispute_reversal',
      source: dispute.id,
      description: `Chargeback reversal for ${dispute.charge}`,
    });
    balanceTransactionIds = [...balanceTransactionIds, reinstated.id];
  }
  dispute = store.update(dispute, { status: outcome, balance_transaction_ids: balanceTransactionIds });
  if (outcome === 'won') store.emit('charge.dispute.funds_reinstated', dispute, ctx, previous);
  store.emit('charge.dispute.closed', dispute, ctx, previous);
  return dispute;
}

/**
 * An inquiry won, accepted or left unanswered closes as `warning_closed` with no money moved; one
 * answered with losing evidence escalates to a chargeback.
 */
function decideInquiry(
  store: StripeStore,
  ctx: Ctx,
  dispute: DisputeRecord,
  outcome: 'won' | 'lost',
): DisputeRecord {
  if (outcome === 'lost' && verdict(store, dispute) === 'lost') return escalate(store, ctx, dispute);
  const previous = dispute;
  dispute = store.update(dispute, { status: 'warning_closed' });
  store.emit('charge.dispute.closed', dispute, ctx, previous);
  return dispute;
}

/** Decides open disputes whose deadline has passed; run when the clock moves and on a timer. */
export function decideOverdueDisputes(store: StripeStore, now: number, apiVersion: string): void {
  for (const dispute of store.all('dispute')) {
    if (!disputeIsOpen(dispute) || now <= dispute.due_by) continue;
    const ctx: Ctx = {
      account: dispute.account,
      now,
      request: { id: null, idempotency_key: null },
      apiVersion,
    };
    decide(store, ctx, dispute, verdict(store, dispute) ?? 'lost');
  }
}
