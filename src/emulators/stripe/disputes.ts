// Owns the dispute lifecycle. The dispute card opens one right after its charge is captured; evidence
// containing `winning_evidence` wins and `losing_evidence` loses once submitted, and whatever is still
// open when the clock passes `due_by` is decided on the evidence saved by then (none: lost), as Stripe
// submits saved evidence at the deadline.
import { DISPUTE_FEE, recordBalanceTransaction } from './balance.js';
import { invalidRequest } from './errors.js';
import { type Metadata, mergeMetadata } from './params.js';
import type { DisputeRecord } from './records.js';
import { disputeIsOpen } from './render-money.js';
import type { Ctx, StripeStore } from './store.js';

const RESPONSE_WINDOW_SECONDS = 7 * 24 * 60 * 60;

export function openDispute(store: StripeStore, ctx: Ctx, chargeId: string): DisputeRecord {
  const charge = store.get('charge', chargeId)!;
  const id = store.newId('dispute');
  const withdrawal = recordBalanceTransaction(store, ctx, {
    amount: -charge.amount_captured,
    currency: charge.currency,
    fee: DISPUTE_FEE,
    type: 'adjustment',
    reporting_category: 'dispute',
    source: id,
    description: `Chargeback withdrawal for ${charge.id}`,
  });
  const dispute = store.insert<DisputeRecord>({
    object: 'dispute',
    id,
    account: charge.account,
    created: ctx.now,
    amount: charge.amount_captured,
    currency: charge.currency,
    charge: charge.id,
    payment_intent: charge.payment_intent,
    reason: 'fraudulent',
    status: 'needs_response',
    evidence: {},
    due_by: ctx.now + RESPONSE_WINDOW_SECONDS,
    submission_count: 0,
    balance_transaction_ids: [withdrawal.id],
    metadata: {},
    brand: charge.card.brand,
  });
  const updated = store.update(charge, { dispute: dispute.id });
  store.emit('charge.dispute.created', dispute, ctx);
  store.emit('charge.dispute.funds_withdrawn', dispute, ctx);
  store.emit('charge.updated', updated, ctx, charge);
  return dispute;
}

function verdict(evidence: Record<string, string | null>): 'won' | 'lost' | null {
  const text = Object.values(evidence).join('\n');
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
      ? { status: 'under_review' as const, submission_count: dispute.submission_count + 1 }
      : {}),
  });
  store.emit('charge.dispute.updated', dispute, ctx, previous);
  if (!metadataOnly && submit) {
    const outcome = verdict(dispute.evidence);
    if (outcome) dispute = decide(store, ctx, dispute, outcome);
  }
  return dispute;
}

/** Accepting a dispute: the merchant concedes, so it is lost now. */
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
    decide(store, ctx, dispute, verdict(dispute.evidence) ?? 'lost');
  }
}
