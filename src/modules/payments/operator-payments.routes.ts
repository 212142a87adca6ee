// Operator routes over payments across merchants (`payment:read`): list with on-call filters ("processing
// for more than 30 minutes": status=processing&older_than=30m), search, one payment with its attempts,
// charges, refunds and events, and attempt outcome counts over a window (what `payctl monitor` samples).
import { text } from '../../http/params.js';
import type { Router } from '../../http/route.js';
import { operatorListFields, operatorSearchFields, statsFields } from './operator-payments.js';
import type { OperatorPaymentsService } from './operator-payments.service.js';

export function registerOperatorPaymentRoutes(router: Router, payments: OperatorPaymentsService): void {
  const tags = ['Payments (admin)'];
  router.operator({
    method: 'GET',
    url: '/admin/payment_intents',
    summary:
      "Payments across merchants, newest first: status, provider, older_than, customer, merchant, currency, amount, created, last4 (a charge's card)",
    tags,
    permission: 'payment:read',
    input: operatorListFields,
    handler: ({ input }) => payments.list(input),
  });
  router.operator({
    method: 'GET',
    url: '/admin/payment_intents/search',
    summary: "Search payments across merchants with Stripe's query language, plus the list filters",
    tags,
    permission: 'payment:read',
    input: operatorSearchFields,
    handler: ({ input }) => payments.search(input),
  });
  router.operator({
    method: 'GET',
    url: '/admin/payment_intents/:id',
    summary: 'One payment with its merchant, attempts, charges, refunds and events',
    tags,
    permission: 'payment:read',
    params: { id: text(255) },
    handler: ({ params }) => payments.show(params.id),
  });
  router.operator({
    method: 'GET',
    url: '/admin/payments/stats',
    summary:
      'Payment attempts created since `since` (or within `window`, default 1h) by outcome and provider; success rate with declines excluded',
    tags,
    permission: 'payment:read',
    input: statsFields,
    handler: ({ input }) => payments.stats(input),
  });
}
