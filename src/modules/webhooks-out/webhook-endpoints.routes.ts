// HTTP surface of webhook endpoints: Stripe's five operations under /v1/webhook_endpoints, plus
// rotate_secret (a new secret shown once; the old one keeps signing during the overlap).
import { listParams } from '../../http/pagination.js';
import { text } from '../../http/params.js';
import type { Router } from '../../http/route.js';
import { endpointCreateFields, endpointUpdateFields, rotateFields } from './webhook-endpoints.js';
import type { WebhookEndpointsService } from './webhook-endpoints.service.js';

const byId = { id: text(255) };

export function registerWebhookEndpointRoutes(router: Router, endpoints: WebhookEndpointsService): void {
  const tags = ['Webhook endpoints'];
  const scope = 'webhook_endpoints:write';
  router.merchant({
    method: 'POST',
    url: '/v1/webhook_endpoints',
    summary: 'Create a webhook endpoint (its secret is in this response only)',
    tags,
    auth: 'secret',
    scope,
    input: endpointCreateFields,
    storedAnswer: endpoints.storedAnswer,
    handler: ({ merchant, input }) => endpoints.create(merchant, input),
  });
  router.merchant({
    method: 'GET',
    url: '/v1/webhook_endpoints/:id',
    summary: 'Retrieve a webhook endpoint',
    tags,
    auth: 'secret',
    scope: 'webhook_endpoints:read',
    params: byId,
    handler: ({ merchant, params }) => endpoints.retrieve(merchant, params.id),
  });
  router.merchant({
    method: 'POST',
    url: '/v1/webhook_endpoints/:id',
    summary: 'Update a webhook endpoint (url, enabled_events, description, metadata, disabled)',
    tags,
    auth: 'secret',
    scope,
    params: byId,
    input: endpointUpdateFields,
    handler: ({ merchant, params, input }) => endpoints.update(merchant, params.id, input),
  });
  router.merchant({
    method: 'DELETE',
    url: '/v1/webhook_endpoints/:id',
    summary: 'Delete a webhook endpoint',
    tags,
    auth: 'secret',
    scope,
    params: byId,
    handler: ({ merchant, params }) => endpoints.delete(merchant, params.id),
  });
  router.merchant({
    method: 'POST',
    url: '/v1/webhook_endpoints/:id/rotate_secret',
    summary: 'Rotate the signing secret; the old one stays valid for expires_in_seconds (default 24 h)',
    tags,
    auth: 'secret',
    scope,
    params: byId,
    input: rotateFields,
    storedAnswer: endpoints.storedAnswer,
    handler: ({ merchant, params, input }) =>
      endpoints.rotateSecret(merchant, params.id, input.expires_in_seconds),
  });
  router.merchant({
    method: 'GET',
    url: '/v1/webhook_endpoints',
    summary: 'List webhook endpoints, newest first',
    tags,
    auth: 'secret',
    scope: 'webhook_endpoints:read',
    input: listParams,
    handler: ({ merchant, input }) => endpoints.list(merchant, input),
  });
}
