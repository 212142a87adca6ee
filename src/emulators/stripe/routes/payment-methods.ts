// Owns /v1/payment_methods: create from raw card details (publishable keys allowed, as from a
// browser), retrieve, update, attach, detach and list.
import { invalidRequest } from '../errors.js';
import type { ApiRoute, RouteInput } from '../http.js';
import { LIST_PARAMS, listPage } from '../listing.js';
import { mergeMetadata, Params } from '../params.js';
import {
  billingDetails,
  CARD_PARAMS,
  paymentMethodFromParams,
  resolvePaymentMethod,
} from '../payment-methods.js';
import type { StripeStore } from '../store.js';

export function paymentMethodRoutes(store: StripeStore): ApiRoute[] {
  const load = (input: RouteInput) =>
    resolvePaymentMethod(store, input.ctx, input.path['id']!, 'payment_method');
  return [
    {
      method: 'POST',
      url: '/v1/payment_methods',
      publishable: true,
      handle(input) {
        const params = new Params(input.params, [
          'type',
          'card',
          'billing_details',
          'metadata',
          'allow_redisplay',
        ]);
        return { record: paymentMethodFromParams(store, input.ctx, params) };
      },
    },
    {
      method: 'GET',
      url: '/v1/payment_methods/:id',
      handle(input) {
        new Params(input.params, []);
        return { record: load(input) };
      },
    },
    {
      method: 'POST',
      url: '/v1/payment_methods/:id',
      handle(input) {
        const params = new Params(input.params, ['billing_details', 'metadata', 'card', 'allow_redisplay']);
        const pm = load(input);
        const card = params.object('card', CARD_PARAMS);
        return {
          record: store.update(pm, {
            billing_details: billingDetails(
              params.object('billing_details', ['address', 'email', 'name', 'phone', 'tax_id']),
              pm.billing_details,
            ),
            metadata: mergeMetadata(pm.metadata, params.metadata()),
            card: {
              ...pm.card,
              exp_month: card?.integer('exp_month') ?? pm.card.exp_month,
              exp_year: card?.integer('exp_year') ?? pm.card.exp_year,
            },
          }),
        };
      },
    },
    {
      method: 'POST',
      url: '/v1/payment_methods/:id/attach',
      handle(input) {
        const params = new Params(input.params, ['customer']);
        const customer = params.string('customer', { required: true })!;
        const pm = load(input);
        if (pm.customer && pm.customer !== customer) {
          throw invalidRequest(
            `The payment method you provided has already been attached to a customer (${pm.customer}).`,
            'payment_method_unexpected_state',
          );
        }
        const attached = store.update(pm, { customer });
        store.emit('payment_method.attached', attached, input.ctx, pm);
        return { record: attached };
      },
    },
    {
      method: 'POST',
      url: '/v1/payment_methods/:id/detach',
      handle(input) {
        new Params(input.params, []);
        const pm = load(input);
        if (!pm.customer) {
          throw invalidRequest(
            'The payment method you provided is not attached to a customer so detachment is impossible.',
            'payment_method_unexpected_state',
          );
        }
        const detached = store.update(pm, { customer: null });
        store.emit('payment_method.detached', detached, input.ctx, pm);
        return { record: detached };
      },
    },
    {
      method: 'GET',
      url: '/v1/payment_methods',
      handle(input) {
        const params = new Params(input.params, [...LIST_PARAMS, 'customer', 'type']);
        const customer = params.string('customer');
        return {
          list: listPage(store, 'payment_method', input.ctx.account, params, '/v1/payment_methods', {
            filter: customer ? (pm) => pm.customer === customer : undefined,
          }),
        };
      },
    },
  ];
}
