// Operator API for outbound webhooks: endpoints and deliveries across merchants (`payment:read`),
// replay and sample triggers (`webhook:operate`, audited with the operator as actor).
import { listParams } from '../../http/pagination.js';
import { text } from '../../http/params.js';
import { originOf, type Router } from '../../http/route.js';
import { deliveryListFilters, endpointListFilters, replayFields, triggerFields } from './webhooks-admin.js';
import type { WebhooksAdminService } from './webhooks-admin.service.js';

export function registerWebhookAdminRoutes(router: Router, admin: WebhooksAdminService): void {
  const tags = ['Webhooks (operators)'];
  router.operator({
    method: 'GET',
    url: '/admin/webhook_endpoints',
    summary: 'Webhook endpoints of every merchant, newest first (filter by merchant, status)',
    tags,
    permission: 'payment:read',
    input: { ...listParams, ...endpointListFilters },
    handler: ({ input }) => admin.listEndpoints(input),
  });
  router.operator({
    method: 'GET',
    url: '/admin/webhook_deliveries',
    summary: 'Webhook deliveries, newest first (filter by endpoint, event, status, from, to)',
    tags,
    permission: 'payment:read',
    input: { ...listParams, ...deliveryListFilters },
    handler: ({ input }) => admin.listDeliveries(input),
  });
  router.operator({
    method: 'GET',
    url: '/admin/webhook_deliveries/:id',
    summary: 'One webhook delivery with its attempts',
    tags,
    permission: 'payment:read',
    params: { id: text(255) },
    handler: ({ params }) => admin.retrieveDelivery(params.id),
  });
  router.operator({
    method: 'POST',
    url: '/admin/webhooks/replay',
    summary: 'Re-queue deliveries: by event, by endpoint and status (failed|dead), or by time range',
    tags,
    permission: 'webhook:operate',
    input: replayFields,
    handler: ({ input, operator, info }) =>
      admin.replay(input, { actor: { type: 'operator', id: operator.operatorId }, origin: originOf(info) }),
  });
  router.operator({
    method: 'POST',
    url: '/admin/webhooks/trigger',
    summary: 'Record a sample event of a type (marked sample) and deliver it the normal way',
    tags,
    permission: 'webhook:operate',
    input: triggerFields,
    handler: ({ input, operator, info }) =>
      admin.trigger(input, { actor: { type: 'operator', id: operator.operatorId }, origin: originOf(info) }),
  });
}
