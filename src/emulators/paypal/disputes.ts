// Owns disputes: the dispute card (4000000000000259) opens a chargeback on capture, the inquiry card
// (4000000000001976) an inquiry; evidence containing `winning_evidence` wins and `losing_evidence`
// loses when provided (as the Stripe emulator decides on submission; an inquiry escalates to a
// chargeback instead); other evidence leaves it UNDER_REVIEW until the response due date, when an
// undecided dispute is lost, as is one whose claim the seller accepts (PayPal then refunds the buyer,
// at either stage).
import type { Ctx } from './context.js';
import { unprocessable } from './errors.js';
import type { CaptureRecord, DisputeRecord } from './records.js';
import { renderDispute } from './render.js';
import { isoTime } from './store.js';

const RESPONSE_DAYS = 10;

function announce(ctx: Ctx, dispute: DisputeRecord, type: string, summary: string): void {
  ctx.emit(dispute.account, {
    event_type: type,
    resource_type: 'dispute',
    resource_version: '1.0',
    summary,
    resource: renderDispute(ctx.render, dispute),
  });
}

export function openDispute(
  ctx: Ctx,
  capture: CaptureRecord,
  stage: DisputeRecord['stage'] = 'CHARGEBACK',
): DisputeRecord {
  const now = isoTime(ctx.now);
  const dispute = ctx.store.insert<DisputeRecord>({
    kind: 'dispute',
    id: `PP-D-${capture.id.slice(0, 8)}`,
    account: capture.account,
    capture_id: capture.id,
    reason: stage === 'INQUIRY' ? 'MERCHANDISE_OR_SERVICE_NOT_RECEIVED' : 'UNAUTHORISED',
    status: 'WAITING_FOR_SELLER_RESPONSE',
    outcome: null,
    amount: capture.amount,
    stage,
    evidence: [],
    seller_response_due_date: isoTime(new Date(ctx.now.getTime() + RESPONSE_DAYS * 86_400_000)),
    create_time: now,
    update_time: now,
  });
  announce(ctx, dispute, 'CUSTOMER.DISPUTE.CREATED', 'A new dispute opened');
  return dispute;
}

function resolve(ctx: Ctx, dispute: DisputeRecord, won: boolean): DisputeRecord {
  const resolved = ctx.store.update(dispute, {
    status: 'RESOLVED',
    outcome: won ? 'RESOLVED_SELLER_FAVOUR' : 'RESOLVED_BUYER_FAVOUR',
    update_time: isoTime(ctx.now),
  });
  announce(
    ctx,
    resolved,
    'CUSTOMER.DISPUTE.RESOLVED',
    `A dispute was resolved in the ${won ? 'seller' : 'buyer'}'s favour`,
  );
  return resolved;
}

function checkOpen(dispute: DisputeRecord): void {
  if (dispute.status !== 'WAITING_FOR_SELLER_RESPONSE') {
    throw unprocessable(
      'NOT_ALLOWED',
      `This action is not allowed on a dispute with status ${dispute.status}.`,
    );
  }
}

/** POST .../provide-evidence: the whole body's text is the evidence (notes, evidence documents' names). */
export function provideEvidence(
  ctx: Ctx,
  dispute: DisputeRecord,
  body: Record<string, unknown>,
): DisputeRecord {
  checkOpen(dispute);
  const text = JSON.stringify(body).slice(0, 20_000);
  const updated = ctx.store.update(dispute, {
    evidence: [...dispute.evidence, text],
    status: 'UNDER_REVIEW',
    update_time: isoTime(ctx.now),
  });
  announce(ctx, updated, 'CUSTOMER.DISPUTE.UPDATED', 'A dispute was updated');
  if (text.includes('winning_evidence')) return resolve(ctx, updated, true);
  if (text.includes('losing_evidence'))
    return updated.stage === 'INQUIRY' ? escalate(ctx, updated) : resolve(ctx, updated, false);
  return updated;
}

/** An inquiry the seller's evidence does not settle becomes a chargeback with a new response window. */
function escalate(ctx: Ctx, dispute: DisputeRecord): DisputeRecord {
  const escalated = ctx.store.update(dispute, {
    stage: 'CHARGEBACK',
    status: 'WAITING_FOR_SELLER_RESPONSE',
    seller_response_due_date: isoTime(new Date(ctx.now.getTime() + RESPONSE_DAYS * 86_400_000)),
    update_time: isoTime(ctx.now),
  });
  announce(ctx, escalated, 'CUSTOMER.DISPUTE.UPDATED', 'A dispute was escalated to a chargeback');
  return escalated;
}

export function acceptClaim(ctx: Ctx, dispute: DisputeRecord): DisputeRecord {
  checkOpen(dispute);
  return resolve(ctx, dispute, false);
}

/** Decides every open dispute whose seller response date has passed: lost. */
export function decideOverdueDisputes(ctx: Ctx): void {
  for (const dispute of [...ctx.store.all('dispute')]) {
    if (dispute.status !== 'RESOLVED' && Date.parse(dispute.seller_response_due_date) <= ctx.now.getTime()) {
      resolve(ctx, dispute, false);
    }
  }
}
