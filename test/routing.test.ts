// Provider routing (src/providers/routing.ts) as pure logic: the most specific rule wins, defaults
// apply without one, and providers that cannot take the payment are dropped.
import { describe, expect, it } from 'vitest';
import type { PaymentProvider, ProviderName } from '../src/providers/provider.js';
import { decideRoute, type RouteQuery, type RoutingRule } from '../src/providers/routing.js';

const defaults = { card: ['stripe', 'paypal'], paypal: ['paypal'], wallet: ['wallet'] } as const;
const configured = (cardsEnabled?: boolean) => {
  const providers: Partial<Record<ProviderName, PaymentProvider>> = {
    stripe: { name: 'stripe' } as PaymentProvider,
    paypal: { name: 'paypal', cardsEnabled } as unknown as PaymentProvider,
  };
  return (name: ProviderName) => providers[name];
};
const query = (over: Partial<RouteQuery> = {}): RouteQuery => ({
  merchantId: 'acct_a',
  livemode: false,
  paymentMethodType: 'card',
  currency: 'usd',
  amount: 1000,
  ...over,
});
let seq = 0;
const rule = (over: Partial<RoutingRule>): RoutingRule => ({
  id: `rr_${++seq}`,
  merchantId: null,
  livemode: null,
  paymentMethodType: 'card',
  currency: null,
  minAmount: null,
  maxAmount: null,
  providers: ['stripe'],
  priority: 0,
  createdAt: new Date(1_000_000 + seq * 1000),
  updatedAt: new Date(1_000_000 + seq * 1000),
  ...over,
});

describe('routing', () => {
  it('uses the defaults without a rule, dropping providers that are not configured', () => {
    expect(decideRoute([], defaults, query(), configured()).providers).toEqual(['stripe', 'paypal']);
    expect(decideRoute([], defaults, query({ paymentMethodType: 'wallet' }), configured())).toMatchObject({
      providers: [],
      skipped: [{ provider: 'wallet', reason: 'not_configured' }],
    });
  });

  it('drops PayPal where it cannot take the currency: KWD goes, JPY stays', () => {
    expect(
      decideRoute([], defaults, query({ currency: 'kwd', amount: 5000 }), configured()).providers,
    ).toEqual(['stripe']);
    expect(
      decideRoute([], defaults, query({ currency: 'jpy', amount: 5000 }), configured()).providers,
    ).toEqual(['stripe', 'paypal']);
    // HUF on PayPal takes whole forints only.
    expect(
      decideRoute([], defaults, query({ currency: 'huf', amount: 20050 }), configured()).providers,
    ).toEqual(['stripe']);
  });

  it('drops PayPal for cards when its card processing is off, keeps it for PayPal payments', () => {
    expect(decideRoute([], defaults, query(), configured(false)).providers).toEqual(['stripe']);
    expect(decideRoute([], defaults, query(), configured(true)).providers).toEqual(['stripe', 'paypal']);
    expect(
      decideRoute([], defaults, query({ paymentMethodType: 'paypal' }), configured(false)).providers,
    ).toEqual(['paypal']);
  });

  it("prefers a merchant's rule over a global one, then priority, then the newest", () => {
    const global = rule({ providers: ['paypal'], priority: 100 });
    const mine = rule({ merchantId: 'acct_a', providers: ['stripe', 'paypal'], priority: 0 });
    const other = rule({ merchantId: 'acct_b', providers: ['paypal', 'stripe'], priority: 500 });
    const rules = [global, mine, other];
    expect(decideRoute(rules, defaults, query(), configured())).toMatchObject({ ruleId: mine.id });
    expect(decideRoute(rules, defaults, query({ merchantId: 'acct_c' }), configured())).toMatchObject({
      ruleId: global.id,
      providers: ['paypal'],
    });
    const higher = rule({ providers: ['stripe'], priority: 200 });
    expect(decideRoute([global, higher], defaults, query(), configured()).ruleId).toBe(higher.id);
    const newer = rule({ providers: ['stripe'], priority: 100 });
    expect(decideRoute([newer, global], defaults, query(), configured()).ruleId).toBe(newer.id);
  });

  it('matches amount ranges (inclusive), currency and mode', () => {
    const big = rule({ minAmount: 10_000, providers: ['paypal', 'stripe'] });
    const small = rule({ maxAmount: 9_999, currency: 'eur', providers: ['stripe'] });
    const live = rule({ livemode: true, providers: ['paypal'], priority: 10 });
    const rules = [big, small, live];
    expect(decideRoute(rules, defaults, query({ amount: 10_000 }), configured()).ruleId).toBe(big.id);
    expect(decideRoute(rules, defaults, query({ amount: 9_999, currency: 'eur' }), configured()).ruleId).toBe(
      small.id,
    );
    expect(decideRoute(rules, defaults, query({ amount: 9_999 }), configured()).ruleId).toBeNull();
    expect(decideRoute(rules, defaults, query({ livemode: true }), configured()).ruleId).toBe(live.id);
  });
});
