// Operator API for routing rules (`payment:configure` to change, `payment:read` to read), and a
// preview that answers which providers a payment would be routed to right now. Changes are audited.
import { boolean, boundedInteger, text } from '../../http/params.js';
import { originOf, type Router } from '../../http/route.js';
import type { ProviderGateway } from '../../providers/gateway.js';
import { currencySchema, paymentMethodTypeSchema, ruleFields, ruleUpdateFields } from './routing.js';
import type { RoutingService } from './routing.service.js';

interface Deps {
  routing: RoutingService;
  gateway: ProviderGateway;
}

export function registerRoutingRoutes(router: Router, { routing, gateway }: Deps): void {
  const tags = ['Routing'];
  const byId = { id: text(64) };
  router.operator({
    method: 'GET',
    url: '/admin/routing/rules',
    summary: 'List routing rules, newest first, optionally for one merchant',
    tags,
    permission: 'payment:read',
    input: { merchant_id: text(64).optional() },
    handler: async ({ input }) => ({
      object: 'list',
      data: await routing.list(input.merchant_id),
      has_more: false,
      url: '/admin/routing/rules',
    }),
  });
  router.operator({
    method: 'POST',
    url: '/admin/routing/rules',
    summary:
      'Create a routing rule: ordered providers for a method type, currency, amount range, merchant, mode',
    tags,
    permission: 'payment:configure',
    input: ruleFields,
    handler: ({ input, operator, info }) =>
      routing.create(input, { type: 'operator', id: operator.operatorId }, originOf(info)),
  });
  router.operator({
    method: 'GET',
    url: '/admin/routing/rules/:id',
    summary: 'Retrieve a routing rule',
    tags,
    permission: 'payment:read',
    params: byId,
    handler: ({ params }) => routing.retrieve(params.id),
  });
  router.operator({
    method: 'POST',
    url: '/admin/routing/rules/:id',
    summary: 'Change a routing rule (fields left out keep their value; null or "" clears one)',
    tags,
    permission: 'payment:configure',
    params: byId,
    input: ruleUpdateFields,
    handler: ({ params, input, operator, info }) =>
      routing.update(params.id, input, { type: 'operator', id: operator.operatorId }, originOf(info)),
  });
  router.operator({
    method: 'DELETE',
    url: '/admin/routing/rules/:id',
    summary: 'Delete a routing rule',
    tags,
    permission: 'payment:configure',
    params: byId,
    handler: ({ params, operator, info }) =>
      routing.delete(params.id, { type: 'operator', id: operator.operatorId }, originOf(info)),
  });
  router.operator({
    method: 'GET',
    url: '/admin/routing/preview',
    summary: 'The providers a payment would be routed to now, in order, and the rule that decided',
    tags,
    permission: 'payment:read',
    input: {
      merchant_id: text(64).min(1),
      livemode: boolean().optional(),
      payment_method_type: paymentMethodTypeSchema,
      currency: currencySchema,
      amount: boundedInteger(0, 99_999_999),
    },
    handler: async ({ input }) => {
      const decision = await gateway.decide({
        merchantId: input.merchant_id,
        livemode: input.livemode ?? false,
        paymentMethodType: input.payment_method_type,
        currency: input.currency.toLowerCase(),
        amount: input.amount,
      });
      return {
        object: 'routing_decision',
        providers: decision.providers,
        rule: decision.ruleId,
        skipped: decision.skipped,
        fallback_enabled: await gateway.fallbackEnabled(),
      };
    },
  });
}
