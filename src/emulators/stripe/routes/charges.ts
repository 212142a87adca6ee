// Owns /v1/charges (read-only: charges are made by payment intents, one per attempt) and /v1/events.
import type { ApiRoute } from '../http.js';
import { LIST_PARAMS, listPage } from '../listing.js';
import { Params } from '../params.js';
import type { StripeStore } from '../store.js';

export function chargeRoutes(store: StripeStore): ApiRoute[] {
  return [
    {
      method: 'GET',
      url: '/v1/charges/:id',
      handle(input) {
        new Params(input.params, []);
        return { record: store.owned('charge', input.ctx.account, input.path['id']!, 'charge') };
      },
    },
    {
      method: 'GET',
      url: '/v1/charges',
      handle(input) {
        const params = new Params(input.params, [
          ...LIST_PARAMS,
          'payment_intent',
          'customer',
          'transfer_group',
        ]);
        const intentId = params.string('payment_intent');
        const customer = params.string('customer');
        return {
          list: listPage(store, 'charge', input.ctx.account, params, '/v1/charges', {
            filter:
              intentId || customer
                ? (charge) =>
                    (!intentId || charge.payment_intent === intentId) &&
                    (!customer || charge.customer === customer)
                : undefined,
          }),
        };
      },
    },
    {
      method: 'GET',
      url: '/v1/events/:id',
      handle(input) {
        new Params(input.params, []);
        return { record: store.owned('event', input.ctx.account, input.path['id']!, 'id') };
      },
    },
    {
      method: 'GET',
      url: '/v1/events',
      handle(input) {
        const params = new Params(input.params, [...LIST_PARAMS, 'type', 'types', 'delivery_success']);
        const type = params.string('type');
        const types = params.stringArray('types');
        const matchesType = (eventType: string) => {
          if (types && !types.includes(eventType)) return false;
          if (!type) return true;
          // Stripe allows one trailing wildcard: `charge.dispute.*`.
          return type.endsWith('*') ? eventType.startsWith(type.slice(0, -1)) : eventType === type;
        };
        return {
          list: listPage(store, 'event', input.ctx.account, params, '/v1/events', {
            filter: type || types ? (event) => matchesType(event.type) : undefined,
          }),
        };
      },
    },
  ];
}
