// Funding a wallet by card or PayPal: a payment intent for the wallet's customer and currency, marked
// in its stored extras as a top-up of this wallet, confirmed at once. Its settlement posts
// clearing -> wallet instead of a charge to the merchant (payments/wallet-settlement.ts), under the
// posting key a charge would use, so the synchronous answer, a webhook and recovery credit it once.
// The answer is the payment intent: `succeeded` means the wallet is credited; `requires_action` (3DS,
// PayPal approval) credits it when the shopper finishes.
import { invalidParam } from '../../http/errors.js';
import type { Scope } from '../../http/expand.js';
import { type PaymentFlows, previewOf } from '../payments/payment-flows.js';
import { toPaymentIntentObject } from '../payments/payment-intents.js';
import type { PaymentsService } from '../payments/payments.service.js';
import type { FundWalletInput } from './wallets.js';
import type { RequestRef } from './wallets.service.js';
import type { WalletRow } from './wallets.table.js';

export interface TopUpDeps {
  payments: Pick<PaymentsService, 'prepareCreate'>;
  flows: Pick<PaymentFlows, 'confirm'>;
}

export async function payWalletTopUp(
  deps: TopUpDeps,
  scope: Scope,
  wallet: WalletRow,
  input: FundWalletInput & { payment_method: string },
  request: RequestRef,
) {
  if (input.payment_method.startsWith('wal_')) {
    throw invalidParam('payment_method', 'A wallet cannot be funded from a wallet; use a card or PayPal.');
  }
  const create = await deps.payments.prepareCreate(scope, {
    amount: input.amount,
    currency: wallet.currency,
    customer: wallet.customer_id,
    payment_method: input.payment_method,
    capture_method: 'automatic',
    payment_method_types: ['card', 'paypal'],
    description: input.description ?? `Top-up of wallet ${wallet.id}`,
    metadata: { ...(input.metadata ?? {}), wallet: wallet.id },
    ...(input.return_url !== undefined ? { return_url: input.return_url } : {}),
  });
  const marked = {
    ...create,
    extra: JSON.stringify({ ...JSON.parse(create.extra), wallet_topup: wallet.id }),
  };
  const intent = await deps.flows.confirm(
    scope,
    previewOf(marked),
    { return_url: input.return_url },
    { request, create: marked },
  );
  return toPaymentIntentObject(intent);
}
