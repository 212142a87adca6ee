// Owns choosing the ordered providers for a payment (DESIGN section 6 and 9): the rule that fits the
// payment best, else ROUTING_DEFAULTS, then only the providers that can take this payment: configured
// here, supporting its currency and amount, and, for cards on PayPal, with card processing available.
// Pure functions over rules already loaded; the routing module keeps the rules and their cache.
import { findCurrency, providerSupports } from '../money/currencies.js';
import type { PaymentProvider, ProviderName } from './provider.js';

export const PAYMENT_METHOD_TYPES = ['card', 'paypal', 'wallet'] as const;
export type PaymentMethodType = (typeof PAYMENT_METHOD_TYPES)[number];
export const PROVIDER_NAMES: readonly ProviderName[] = ['stripe', 'paypal', 'wallet'];

export interface RouteQuery {
  merchantId: string;
  livemode: boolean;
  paymentMethodType: PaymentMethodType;
  currency: string;
  amount: number;
}

export interface RoutingRule {
  id: string;
  /** null: every merchant. */
  merchantId: string | null;
  /** null: both modes. */
  livemode: boolean | null;
  paymentMethodType: PaymentMethodType;
  /** Lowercase ISO code; null: every currency. */
  currency: string | null;
  /** Inclusive bounds in minor units; null: unbounded. */
  minAmount: number | null;
  maxAmount: number | null;
  providers: ProviderName[];
  /** Higher wins among rules of the same reach (merchant or global). */
  priority: number;
  createdAt: Date;
  updatedAt: Date;
}

export type RoutingDefaults = Readonly<Record<PaymentMethodType, readonly ProviderName[]>>;

export function ruleMatches(rule: RoutingRule, query: RouteQuery): boolean {
  const currency = query.currency.toLowerCase();
  return (
    rule.paymentMethodType === query.paymentMethodType &&
    (rule.merchantId === null || rule.merchantId === query.merchantId) &&
    (rule.livemode === null || rule.livemode === query.livemode) &&
    (rule.currency === null || rule.currency === currency) &&
    (rule.minAmount === null || query.amount >= rule.minAmount) &&
    (rule.maxAmount === null || query.amount <= rule.maxAmount)
  );
}

/** The most specific matching rule: a merchant's own over a global one, then priority, then newest. */
export function selectRule(rules: readonly RoutingRule[], query: RouteQuery): RoutingRule | undefined {
  let best: RoutingRule | undefined;
  for (const rule of rules) {
    if (!ruleMatches(rule, query)) continue;
    if (!best || compareRules(rule, best) < 0) best = rule;
  }
  return best;
}

/** Negative when `a` wins over `b`. Ids break the last tie so the choice never depends on load order. */
export function compareRules(a: RoutingRule, b: RoutingRule): number {
  const reach = Number(b.merchantId !== null) - Number(a.merchantId !== null);
  if (reach !== 0) return reach;
  if (a.priority !== b.priority) return b.priority - a.priority;
  const age = b.createdAt.getTime() - a.createdAt.getTime();
  if (age !== 0) return age;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** Whether a provider can take this payment: the currency table, and PayPal's card availability. */
export function providerCanTake(
  name: ProviderName,
  provider: PaymentProvider | undefined,
  query: RouteQuery,
): boolean {
  if (!provider) return false;
  if (!findCurrency(query.currency) || !providerSupports(name, query.currency, query.amount)) return false;
  if (name === 'paypal' && query.paymentMethodType === 'card') {
    // The PayPal connector says whether card processing (ACDC) is available; undefined means it is.
    return (provider as { cardsEnabled?: boolean }).cardsEnabled !== false;
  }
  return true;
}

export interface RouteDecision {
  providers: ProviderName[];
  /** The rule that chose the list, or null when ROUTING_DEFAULTS did. */
  ruleId: string | null;
  /** Providers the rule or default listed that cannot take this payment, and why. */
  skipped: { provider: ProviderName; reason: 'not_configured' | 'unsupported' }[];
}

export function decideRoute(
  rules: readonly RoutingRule[],
  defaults: RoutingDefaults,
  query: RouteQuery,
  lookup: (name: ProviderName) => PaymentProvider | undefined,
): RouteDecision {
  const rule = selectRule(rules, query);
  const listed = rule ? rule.providers : (defaults[query.paymentMethodType] ?? []);
  const providers: ProviderName[] = [];
  const skipped: RouteDecision['skipped'] = [];
  for (const name of listed) {
    if (providers.includes(name)) continue;
    const provider = lookup(name);
    if (!provider) skipped.push({ provider: name, reason: 'not_configured' });
    else if (!providerCanTake(name, provider, query)) skipped.push({ provider: name, reason: 'unsupported' });
    else providers.push(name);
  }
  return { providers, ruleId: rule?.id ?? null, skipped };
}
