// HTTP surface of reviews: Stripe's list, retrieve and approve under /v1/reviews, and runbook 002's
// rollback marking for operators (`payment:configure`, the permission of payment settings).
import { z } from 'zod';
import { listParams } from '../../http/pagination.js';
import { boolean, text } from '../../http/params.js';
import { originOf, type Router } from '../../http/route.js';
import { sinceSchema } from './reviews.js';
import type { ReviewsService } from './reviews.service.js';

const byId = { id: text(255) };

export function registerReviewRoutes(router: Router, reviews: ReviewsService): void {
  const tags = ['Reviews'];
  router.merchant({
    method: 'GET',
    url: '/v1/reviews',
    summary: 'List reviews, newest first',
    tags,
    auth: 'secret',
    scope: 'reviews:read',
    input: listParams,
    handler: ({ merchant, input }) => reviews.list(merchant, input),
  });
  router.merchant({
    method: 'GET',
    url: '/v1/reviews/:id',
    summary: 'Retrieve a review',
    tags,
    auth: 'secret',
    scope: 'reviews:read',
    params: byId,
    handler: ({ merchant, params }) => reviews.retrieve(merchant, params.id),
  });
  router.merchant({
    method: 'POST',
    url: '/v1/reviews/:id/approve',
    summary: 'Approve an open review: it closes with reason `approved` and the payment stands',
    tags,
    auth: 'secret',
    scope: 'reviews:write',
    params: byId,
    handler: ({ merchant, params, info, request }) => {
      const key = request.headers['idempotency-key'];
      return reviews.approve(merchant, params.id, {
        id: info.requestId,
        idempotencyKey: typeof key === 'string' ? key : undefined,
      });
    },
  });
  router.operator({
    method: 'POST',
    url: '/admin/rollback/mark-for-review',
    summary:
      'Runbook 002 rollback: open a `system_rollback` review on each succeeded payment of the last `since` (3600, 90s, 30m, 1h, 2d)',
    tags,
    permission: 'payment:configure',
    input: { since: sinceSchema.pipe(z.number()) },
    handler: ({ operator, input, info }) =>
      reviews.markForRollback(input.since, { type: 'operator', id: operator.operatorId }, originOf(info)),
  });
  router.operator({
    method: 'GET',
    url: '/admin/reviews',
    summary: 'Reviews across merchants, newest first: open=true|false, livemode=true|false',
    tags,
    permission: 'payment:read',
    input: { ...listParams, open: boolean().optional(), livemode: boolean().optional() },
    handler: ({ input }) => reviews.operatorList(input),
  });
  router.operator({
    method: 'POST',
    url: '/admin/reviews/:id/approve',
    summary:
      "Approve an open review on its merchant's behalf (a held payment is captured first); audited as the operator's action",
    tags,
    permission: 'payment:write',
    params: byId,
    handler: ({ params, operator, info }) =>
      reviews.approveAsOperator(params.id, { type: 'operator', id: operator.operatorId }, originOf(info)),
  });
}
