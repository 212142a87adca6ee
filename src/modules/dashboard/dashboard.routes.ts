// The operator dashboard's own reads (issue 10): what no other admin route already answers.
// `payment:read`, so a viewer sees it.
import { text } from '../../http/params.js';
import type { Router } from '../../http/route.js';
import { overviewFields } from './dashboard.js';
import type { DashboardService } from './dashboard.service.js';
import type { PaymentTimelineService } from './payment-timeline.service.js';

interface Deps {
  dashboard: DashboardService;
  timeline: PaymentTimelineService;
}

export function registerDashboardRoutes(router: Router, { dashboard, timeline }: Deps): void {
  router.operator({
    method: 'GET',
    url: '/admin/overview',
    summary:
      'The dashboard overview for window=1h|24h|7d (default 24h) and livemode (default false): outcomes with declines apart, volume per gateway and currency, p99 processing time, gateway errors, dispute and refund rates, a series, alerts',
    tags: ['Dashboard'],
    permission: 'payment:read',
    input: overviewFields,
    handler: ({ input }) => dashboard.overview(input),
  });
  router.operator({
    method: 'GET',
    url: '/admin/payment_intents/:id/timeline',
    summary:
      "One payment's story, each list oldest first: attempts, events, inbound provider events, deliveries, ledger postings, fraud decision, reviews, refunds, disputes",
    tags: ['Dashboard'],
    permission: 'payment:read',
    params: { id: text(255) },
    handler: ({ params }) => timeline.timeline(params.id),
  });
}
