// Routing without run-time state: each payment method type's providers in a fixed order, less those
// not configured here or not taking the currency and amount (DESIGN section 9). The gateway
// (gateway.ts) adds rules, circuit breakers and switches on top; this is what it falls back to.
import { providerSupports } from '../money/currencies.js';
import type { PaymentProvider, ProviderName } from './provider.js';

export type PaymentMethodType = 'card' | 'paypal' | 'wallet';

export const DEFAULT_ROUTES: Readonly<Record<PaymentMethodType, readonly ProviderName[]>> = Object.freeze({
  card: ['stripe', 'paypal'],
  paypal: ['paypal'],
  wallet: ['wallet'],
});

/** A provider that says it cannot take cards (PayPal without ACDC eligibility) is skipped for cards. */
function takesCards(provider: PaymentProvider): boolean {
  return (provider as { cardsEnabled?: boolean }).cardsEnabled !== false;
}

export function eligibleProviders(
  order: readonly ProviderName[],
  query: { paymentMethodType: PaymentMethodType; currency: string; amount: number },
  provider: (name: ProviderName) => PaymentProvider | undefined,
): ProviderName[] {
  return order.filter((name) => {
    const found = provider(name);
    if (!found || !providerSupports(name, query.currency, query.amount)) return false;
    return query.paymentMethodType !== 'card' || takesCards(found);
  });
}

export function staticRouting(
  provider: (name: ProviderName) => PaymentProvider | undefined,
  fallbackEnabled: boolean,
) {
  return {
    route: async (query: { paymentMethodType: PaymentMethodType; currency: string; amount: number }) =>
      eligibleProviders(DEFAULT_ROUTES[query.paymentMethodType], query, provider),
    provider,
    fallbackEnabled: () => fallbackEnabled,
    recordFallback: () => {},
  };
}
