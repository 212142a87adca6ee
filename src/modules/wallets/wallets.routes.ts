// HTTP surface of wallets (/v1/wallets, a Stripe-style extension). Every POST honours Idempotency-Key
// through the Router, as for every other resource.
import { AppError } from '../../http/errors.js';
import { listParams } from '../../http/pagination.js';
import { text } from '../../http/params.js';
import type { Router } from '../../http/route.js';
import { createWalletFields, entryListFields, fundWalletFields, walletListFilters } from './wallets.js';
import type { WalletsService } from './wallets.service.js';

const byId = { id: text(255) };
const tags = ['Wallets'];

export function registerWalletRoutes(router: Router, wallets: WalletsService): void {
  router.merchant({
    method: 'POST',
    url: '/v1/wallets',
    summary: 'Create a wallet for a customer and currency (one open wallet per customer and currency)',
    tags,
    auth: 'secret',
    scope: 'wallets:write',
    input: createWalletFields,
    handler: ({ merchant, input, info, idempotency }) =>
      wallets.create(merchant, input, { id: info.requestId, idempotencyKey: idempotency?.key }),
  });
  router.merchant({
    method: 'GET',
    url: '/v1/wallets/:id',
    summary: 'Retrieve a wallet with its balance (available and held) from the ledger',
    tags,
    auth: 'secret',
    scope: 'wallets:read',
    params: byId,
    handler: ({ merchant, params }) => wallets.retrieve(merchant, params.id),
  });
  router.merchant({
    method: 'GET',
    url: '/v1/wallets',
    summary: 'List wallets, newest first',
    tags,
    auth: 'secret',
    scope: 'wallets:read',
    input: { ...listParams, ...walletListFilters },
    handler: ({ merchant, input }) => wallets.list(merchant, input),
  });
  router.merchant({
    method: 'POST',
    url: '/v1/wallets/:id/fund',
    summary:
      'Fund a wallet: amount alone credits it directly (wallets scope); with payment_method a card or PayPal payment credits it on success',
    tags,
    auth: 'secret',
    scope: 'wallets:write',
    params: byId,
    input: fundWalletFields,
    handler: async ({ merchant, params, input, info, idempotency }) => {
      // A payment also needs the right to make payment intents.
      if (input.payment_method !== undefined && merchant.scopes !== null) {
        const allowed = merchant.scopes.includes('payment_intents:write');
        if (!allowed) {
          throw new AppError(
            403,
            'permission_error',
            'insufficient_scope',
            'Funding a wallet by payment needs the payment_intents:write scope as well.',
            { shouldRetry: false },
          );
        }
      }
      return wallets.fund(merchant, params.id, input, {
        id: info.requestId,
        idempotencyKey: idempotency?.key,
      });
    },
  });
  router.merchant({
    method: 'GET',
    url: '/v1/wallets/:id/entries',
    summary: "List the ledger entries of a wallet's balance, newest first",
    tags,
    auth: 'secret',
    scope: 'wallets:read',
    params: byId,
    input: entryListFields,
    handler: ({ merchant, params, input }) => wallets.entries(merchant, params.id, input),
  });
  router.merchant({
    method: 'POST',
    url: '/v1/wallets/:id/close',
    summary: 'Close a wallet (only at zero balance with no holds)',
    tags,
    auth: 'secret',
    scope: 'wallets:write',
    params: byId,
    handler: ({ merchant, params, info, idempotency }) =>
      wallets.close(merchant, params.id, { id: info.requestId, idempotencyKey: idempotency?.key }),
  });
}
