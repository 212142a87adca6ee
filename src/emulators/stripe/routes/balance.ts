// Owns /v1/balance_transactions: what each money movement did to the account, with fees and net.
import type { ApiRoute } from '../http.js';
import { LIST_PARAMS, listPage } from '../listing.js';
import { Params } from '../params.js';
import type { StripeStore } from '../store.js';

export function balanceRoutes(store: StripeStore): ApiRoute[] {
  return [
    {
      method: 'GET',
      url: '/v1/balance_transactions/:id',
      handle(input) {
        new Params(input.params, []);
        return { record: store.owned('balance_transaction', input.ctx.account, input.path['id']!, 'id') };
      },
    },
    {
      method: 'GET',
      url: '/v1/balance_transactions',
      handle(input) {
        const params = new Params(input.params, [...LIST_PARAMS, 'type', 'source', 'currency', 'payout']);
        const type = params.string('type');
        const source = params.string('source');
        const currency = params.string('currency');
        return {
          list: listPage(
            store,
            'balance_transaction',
            input.ctx.account,
            params,
            '/v1/balance_transactions',
            {
              filter:
                type || source || currency
                  ? (txn) =>
                      (!type || txn.type === type) &&
                      (!source || txn.source === source) &&
                      (!currency || txn.currency === currency)
                  : undefined,
            },
          ),
        };
      },
    },
  ];
}
