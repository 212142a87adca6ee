// HTTP surface of refunds (/v1/refunds). Create is resumable: a retry after a crash continues with the
// refund its first execution reserved instead of reserving a second one.
import { text } from '../../http/params.js';
import type { Router } from '../../http/route.js';
import { createFields, listFilters, updateFields } from './refunds.js';
import type { RefundRecoveryData, RefundsService } from './refunds.service.js';

const byId = { id: text(255) };
const tags = ['Refunds'];

export function registerRefundRoutes(router: Router, refunds: RefundsService): void {
  router.merchant({
    method: 'POST',
    url: '/v1/refunds',
    summary: 'Refund a charge or payment intent, fully or partly',
    tags,
    auth: 'secret',
    scope: 'refunds:write',
    resumable: true,
    input: createFields,
    handler: async ({ merchant, input, info, idempotency }) => {
      const request = { id: info.requestId, idempotencyKey: idempotency?.key };
      if (idempotency?.resumed && idempotency.recoveryPoint === 'refund_reserved') {
        const resumed = await refunds.resume(
          merchant,
          idempotency.recoveryData as RefundRecoveryData,
          request,
        );
        // No row: the first execution undid its reservation (nothing was refunded), so start afresh.
        if (resumed) return resumed;
      }
      return refunds.create(merchant, input, { request, idempotency });
    },
  });
  router.merchant({
    method: 'GET',
    url: '/v1/refunds/:id',
    summary: 'Retrieve a refund',
    tags,
    auth: 'secret',
    scope: 'refunds:read',
    params: byId,
    handler: ({ merchant, params }) => refunds.retrieve(merchant, params.id),
  });
  router.merchant({
    method: 'POST',
    url: '/v1/refunds/:id',
    summary: "Update a refund's metadata",
    tags,
    auth: 'secret',
    scope: 'refunds:write',
    params: byId,
    input: updateFields,
    handler: ({ merchant, params, input, info, idempotency }) =>
      refunds.update(merchant, params.id, input, { id: info.requestId, idempotencyKey: idempotency?.key }),
  });
  router.merchant({
    method: 'GET',
    url: '/v1/refunds',
    summary: 'List refunds, newest first (filter by charge or payment_intent)',
    tags,
    auth: 'secret',
    scope: 'refunds:read',
    input: listFilters,
    handler: ({ merchant, input }) => refunds.list(merchant, input),
  });
}
