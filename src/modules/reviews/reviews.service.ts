// Reviews: holds on charges that a merchant approves (Stripe's review object). Runbook 002's rollback
// opens one with reason `system_rollback` on every succeeded payment of a recent window, in place of its
// `UPDATE payments SET status = 'pending_review'`: the payment keeps its status and no money moves; the
// review tells the merchant (list, event, webhook) and finance (one audit row with the count) what to
// look at. Each change, its event and its audit row commit in one transaction (invariant 4).
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { invalidParam, resourceMissing } from '../../http/errors.js';
import type { Scope } from '../../http/expand.js';
import { type ListParams, listObject, paginate } from '../../http/pagination.js';
import { newId } from '../../ids.js';
import type { AuditActor, AuditOrigin } from '../audit/audit.js';
import type { AuditService } from '../audit/audit.service.js';
import { auditedAction } from '../audit/audited-action.js';
import type { EventsService } from '../events/events.service.js';
import { type ReviewObject, type RollbackMarking, toReviewObject } from './reviews.js';
import {
  closeReview,
  findReview,
  findReviewById,
  insertReviews,
  lockReview,
  openReviewOf,
  operatorReviewsQuery,
  reviewsQuery,
  rollbackCandidates,
  setChargeReview,
} from './reviews.repository.js';

export interface ReviewsDeps {
  db: Kysely<Database>;
  clock: Clock;
  events: EventsService;
  audit: AuditService;
}

/**
 * Releases a payment a fraud rule held for review once the review is approved (the payments module):
 * captures it, unless the merchant chose manual capture, who then captures it as on Stripe.
 */
export interface HeldPayments {
  release(scope: Scope, paymentIntentId: string): Promise<void>;
}

export class ReviewsService {
  private heldPayments: HeldPayments | undefined;

  constructor(private readonly deps: ReviewsDeps) {}

  /** Wired after construction: payments need reviews (to open them) and reviews need payments (to release). */
  setHeldPayments(heldPayments: HeldPayments): void {
    this.heldPayments = heldPayments;
  }

  /**
   * A `rule` review on a charge whose authorization a fraud rule held, opened in the settlement's
   * transaction with its `review.opened` event; the charge names it. An already open review is kept.
   */
  async openForRule(
    trx: Transaction<Database>,
    scope: Scope,
    charge: { id: string; payment_intent_id: string },
    request?: { id?: string | undefined; idempotencyKey?: string | undefined },
  ): Promise<string> {
    const [opened] = await insertReviews(trx, [
      {
        id: newId('prv'),
        merchant_id: scope.merchantId,
        livemode: scope.livemode,
        charge_id: charge.id,
        payment_intent_id: charge.payment_intent_id,
        created_at: this.deps.clock.now(),
        opened_reason: 'rule',
        reason: 'rule',
      },
    ]);
    if (!opened) return (await openReviewOf(trx, charge.id)) as string;
    await setChargeReview(trx, charge.id, opened.id);
    await this.deps.events.record(trx, scope, {
      type: 'review.opened',
      object: toReviewObject(opened),
      ...(request ? { request } : {}),
    });
    return opened.id;
  }

  async retrieve(scope: Scope, id: string): Promise<ReviewObject> {
    const row = await findReview(this.deps.db, scope, id);
    if (!row) throw resourceMissing('review', id, 'id');
    return toReviewObject(row);
  }

  async list(scope: Scope, params: ListParams) {
    const page = await paginate(
      reviewsQuery(this.deps.db, scope),
      params,
      async (id) => (await findReview(this.deps.db, scope, id))?.created_at,
    );
    return listObject('/v1/reviews', page.rows.map(toReviewObject), page.hasMore);
  }

  /** Reviews across merchants for operators (the dashboard), newest first, open or closed, in one mode or both. */
  async operatorList(params: ListParams & { open?: boolean | undefined; livemode?: boolean | undefined }) {
    const page = await paginate(
      operatorReviewsQuery(this.deps.db, params),
      params,
      async (id) => (await findReviewById(this.deps.db, id))?.created_at,
    );
    return listObject(
      '/admin/reviews',
      page.rows.map((row) => ({ ...toReviewObject(row), merchant: row.merchant_id })),
      page.hasMore,
    );
  }

  /**
   * An operator approves a review on its merchant's behalf: the merchant's own approve (a held payment
   * is captured first), audited as the operator's action, refusals included.
   */
  async approveAsOperator(id: string, actor: AuditActor, origin: AuditOrigin): Promise<ReviewObject> {
    const row = await findReviewById(this.deps.db, id);
    if (!row) throw resourceMissing('review', id, 'id');
    const scope = { merchantId: row.merchant_id, livemode: row.livemode };
    return auditedAction(this.deps.audit, {
      actor,
      origin,
      action: 'review.approve',
      resourceType: 'review',
      resourceId: id,
      requested: { merchant: row.merchant_id, livemode: row.livemode, payment_intent: row.payment_intent_id },
      run: () => this.approve(scope, id, { id: origin.requestId }),
      outcome: (review) => ({ open: review.open, closed_reason: review.closed_reason }),
    });
  }

  /** Closes the review of a payment whose authorization was released, in the settlement's transaction. */
  async closeCanceled(
    trx: Transaction<Database>,
    scope: Scope,
    id: string,
    request?: { id?: string | undefined; idempotencyKey?: string | undefined },
  ): Promise<void> {
    const row = await lockReview(trx, scope, id);
    if (!row?.open) return;
    const closed = toReviewObject(await closeReview(trx, id, 'canceled', this.deps.clock.now()));
    await this.deps.events.record(trx, scope, {
      type: 'review.closed',
      object: closed,
      ...(request ? { request } : {}),
    });
  }

  /** Closes an open review as `approved`; the payment stands as it is. */
  async approve(
    scope: Scope,
    id: string,
    request?: { id?: string | undefined; idempotencyKey?: string | undefined },
  ): Promise<ReviewObject> {
    const peek = await findReview(this.deps.db, scope, id);
    if (peek?.open && peek.opened_reason === 'rule') {
      // The held authorization is captured first: a failed capture leaves the review open to retry.
      await this.heldPayments?.release(scope, peek.payment_intent_id);
    }
    return this.deps.db.transaction().execute(async (trx) => {
      const row = await lockReview(trx, scope, id);
      if (!row) throw resourceMissing('review', id, 'id');
      if (!row.open) {
        throw invalidParam(
          'id',
          `This review is already closed (${row.closed_reason}); only an open review can be approved.`,
          'review_already_closed',
        );
      }
      const closed = toReviewObject(await closeReview(trx, id, 'approved', this.deps.clock.now()));
      await this.deps.events.record(trx, scope, {
        type: 'review.closed',
        object: closed,
        ...(request ? { request } : {}),
      });
      return closed;
    });
  }

  /**
   * Runbook 002's rollback marking: a review (`system_rollback`) on each succeeded payment created in
   * the last `sinceSeconds`, across merchants and modes, skipping payments with an open review or an
   * earlier rollback review (so a rerun, even after approvals, opens none), and one audit row with the
   * count.
   */
  async markForRollback(
    sinceSeconds: number,
    actor: AuditActor,
    origin?: AuditOrigin,
  ): Promise<RollbackMarking> {
    const now = this.deps.clock.now();
    const cutoff = new Date(now.getTime() - sinceSeconds * 1000);
    return this.deps.db.transaction().execute(async (trx) => {
      const candidates = await rollbackCandidates(trx, cutoff);
      const opened = await insertReviews(
        trx,
        candidates.map((candidate) => ({
          id: newId('prv'),
          merchant_id: candidate.merchant_id,
          livemode: candidate.livemode,
          charge_id: candidate.charge_id,
          payment_intent_id: candidate.payment_intent_id,
          created_at: now,
          opened_reason: 'system_rollback' as const,
          reason: 'system_rollback',
        })),
      );
      for (const review of opened) {
        await setChargeReview(trx, review.charge_id, review.id);
        await this.deps.events.record(
          trx,
          { merchantId: review.merchant_id, livemode: review.livemode },
          { type: 'review.opened', object: toReviewObject(review) },
        );
      }
      const marking: RollbackMarking = {
        object: 'rollback_marking',
        since: sinceSeconds,
        opened: opened.length,
        reviews: opened.map((review) => ({
          id: review.id,
          charge: review.charge_id,
          payment_intent: review.payment_intent_id,
          merchant: review.merchant_id,
          livemode: review.livemode,
        })),
      };
      await this.deps.audit.record(
        {
          actor,
          action: 'payment.rollback.mark_for_review',
          resourceType: 'review',
          outcome: 'success',
          origin,
          newValue: {
            affected_count: opened.length,
            reason: 'system_rollback',
            since_seconds: sinceSeconds,
            window_start: cutoff.toISOString(),
          },
        },
        trx,
      );
      return marking;
    });
  }
}
