// GET /v1/events and /v1/events/:id, as Stripe serves them.

import { listParams } from '../../http/pagination.js';
import { text } from '../../http/params.js';
import type { Router } from '../../http/route.js';
import { eventListFilters } from './events.js';
import type { EventsService } from './events.service.js';

export function registerEventRoutes(router: Router, events: EventsService): void {
  const tags = ['Events'];
  router.merchant({
    method: 'GET',
    url: '/v1/events/:id',
    summary: 'Retrieve an event',
    tags,
    auth: 'secret',
    scope: 'events:read',
    params: { id: text(255) },
    handler: ({ merchant, params }) => events.retrieve(merchant, params.id),
  });
  router.merchant({
    method: 'GET',
    url: '/v1/events',
    summary: 'List events, newest first',
    tags,
    auth: 'secret',
    scope: 'events:read',
    input: { ...listParams, ...eventListFilters },
    handler: ({ merchant, input }) => events.list(merchant, input),
  });
}
