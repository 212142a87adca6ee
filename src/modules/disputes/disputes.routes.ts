// HTTP surface of disputes: Stripe's four operations under /v1/disputes.
import { listParams } from '../../http/pagination.js';
import { boolean, metadata, text } from '../../http/params.js';
import type { Router } from '../../http/route.js';
import { evidenceSchema } from './dispute-object.js';
import type { DisputesService } from './disputes.service.js';

const byId = { id: text(255) };

export function registerDisputeRoutes(router: Router, disputes: DisputesService): void {
  const tags = ['Disputes'];
  router.merchant({
    method: 'GET',
    url: '/v1/disputes',
    summary: 'List disputes, newest first',
    tags,
    auth: 'secret',
    scope: 'disputes:read',
    input: { ...listParams, charge: text(255).optional(), payment_intent: text(255).optional() },
    handler: ({ merchant, input }) => disputes.list(merchant, input),
  });
  router.merchant({
    method: 'GET',
    url: '/v1/disputes/:id',
    summary: 'Retrieve a dispute',
    tags,
    auth: 'secret',
    scope: 'disputes:read',
    params: byId,
    handler: ({ merchant, params }) => disputes.retrieve(merchant, params.id),
  });
  router.merchant({
    method: 'POST',
    url: '/v1/disputes/:id',
    summary: 'Save or submit evidence (forwarded to the provider, which decides), or update metadata',
    tags,
    auth: 'secret',
    scope: 'disputes:write',
    params: byId,
    input: {
      evidence: evidenceSchema.optional(),
      metadata: metadata().optional(),
      submit: boolean().optional(),
    },
    handler: ({ merchant, params, input }) => disputes.update(merchant, params.id, input),
  });
  router.merchant({
    method: 'POST',
    url: '/v1/disputes/:id/close',
    summary: 'Close (accept) a dispute: a chargeback is lost, an inquiry closes',
    tags,
    auth: 'secret',
    scope: 'disputes:write',
    params: byId,
    handler: ({ merchant, params }) => disputes.close(merchant, params.id),
  });
}
