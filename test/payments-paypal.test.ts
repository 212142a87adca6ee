// PayPal as a redirect wallet through our API with the official `stripe` SDK (DESIGN section 6):
// payment_method_types[]=paypal and payment_method_data[type]=paypal confirm to requires_action; the
// payer approves at the (embedded) PayPal emulator, comes back through our return hop to the
// merchant's return_url, and the intent has succeeded with one capture at PayPal. Also: a payer who
// turns back, refunds, manual capture, an approval reached by webhook only, and a stale approval page
// after a re-confirmation, which must charge nothing.
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api } from './support/http.js';
import { attemptsOf, paypalControl } from './support/provider-harness.js';
import { startTestService, type TestService } from './support/service.js';
import { completeThreeDSecure } from './support/three-d-secure.js';
import { waitFor } from './support/wait.js';

let t: TestService;
let stripe: Stripe;
let paypal: Api;
beforeAll(async () => {
  t = await startTestService();
  stripe = new Stripe(t.secretKey, {
    host: '127.0.0.1',
    port: Number(new URL(t.url).port),
    protocol: 'http',
    maxNetworkRetries: 0,
  });
  paypal = paypalControl(t);
});
afterAll(async () => {
  await t.close();
});

const RETURN_URL = 'https://shop.example/checkout/done';

type PayPalState = {
  orders: { id: string; status: string }[];
  captures: { id: string; status: string; amount: { currency_code: string; value: string } }[];
  refunds: { id: string; status: string; amount: { currency_code: string; value: string } }[];
};

async function paypalState(): Promise<PayPalState> {
  return (await paypal.get<PayPalState>('/_emulator/state')).body;
}

function createPayPal(extra: Partial<Stripe.PaymentIntentCreateParams> = {}) {
  return stripe.paymentIntents.create({
    amount: 4599,
    currency: 'eur',
    // The SDK's API version names payment_method_types allowed_payment_method_types.
    allowed_payment_method_types: ['paypal'],
    payment_method_data: { type: 'paypal' },
    confirm: true,
    return_url: RETURN_URL,
    ...extra,
  });
}

function redirectOf(intent: Stripe.PaymentIntent): string {
  expect(intent.status).toBe('requires_action');
  expect(intent.next_action?.type).toBe('redirect_to_url');
  const url = intent.next_action?.redirect_to_url?.url;
  expect(url).toBeTruthy();
  return url as string;
}

describe('PayPal through the Stripe SDK', () => {
  it('requires_action, approve at PayPal, back at the return_url, succeeded with one capture', async () => {
    const captures = (await paypalState()).captures.length;
    const intent = await createPayPal();
    const redirect = redirectOf(intent);
    expect(redirect.startsWith(paypal.baseUrl)).toBe(true);
    const shopper = await completeThreeDSecure(redirect, 'approve');
    expect(shopper.pageStatus).toBe(302);
    expect(shopper.hop).toMatch(/\/return\/paypal\/pa_/);
    expect(shopper.hopStatus).toBe(302);
    expect(shopper.merchantUrl?.origin + (shopper.merchantUrl?.pathname ?? '')).toBe(RETURN_URL);
    expect(shopper.merchantUrl?.searchParams.get('payment_intent')).toBe(intent.id);
    expect(shopper.merchantUrl?.searchParams.get('redirect_status')).toBe('succeeded');
    const done = await stripe.paymentIntents.retrieve(intent.id, { expand: ['latest_charge'] });
    expect(done.status).toBe('succeeded');
    expect(done.amount_received).toBe(4599);
    const charge = done.latest_charge as Stripe.Charge;
    expect(charge.payment_method_details?.type).toBe('paypal');
    const state = await paypalState();
    expect(state.captures.length).toBe(captures + 1);
    expect(state.captures.at(-1)?.amount).toEqual({ currency_code: 'EUR', value: '45.99' });
    // A second visit to the return hop (the shopper reloads) changes nothing.
    const again = await fetch(shopper.hop as string, { redirect: 'manual' });
    expect(again.status).toBe(302);
    expect((await paypalState()).captures.length).toBe(captures + 1);
  });

  it('a payer who turns back: redirect_status failed, the intent can take another payment method', async () => {
    const captures = (await paypalState()).captures.length;
    const intent = await createPayPal();
    const shopper = await completeThreeDSecure(redirectOf(intent), 'fail');
    expect(shopper.merchantUrl?.searchParams.get('redirect_status')).toBe('failed');
    const after = await stripe.paymentIntents.retrieve(intent.id);
    expect(after.status).toBe('requires_payment_method');
    expect(after.last_payment_error?.code).toBe('payment_intent_authentication_failure');
    expect((await paypalState()).captures.length).toBe(captures);
    // Approving the abandoned order afterwards charges nothing: we never capture it.
    await completeThreeDSecure(redirectOf(intent), 'approve').catch(() => undefined);
    expect((await paypalState()).captures.length).toBe(captures);
  });

  it('refunds a PayPal payment, partially then the rest, at PayPal', async () => {
    const intent = await createPayPal({ amount: 3000 });
    await completeThreeDSecure(redirectOf(intent), 'approve');
    const partial = await stripe.refunds.create({ payment_intent: intent.id, amount: 1000 });
    expect(partial.status).toBe('succeeded');
    const rest = await stripe.refunds.create({ payment_intent: intent.id });
    expect(rest.status).toBe('succeeded');
    expect(rest.amount).toBe(2000);
    const refunds = (await paypalState()).refunds.slice(-2).map((r) => r.amount.value);
    expect(refunds).toEqual(['10.00', '20.00']);
    const charge = await stripe.charges.list({ payment_intent: intent.id });
    expect(charge.data[0]?.refunded).toBe(true);
  });

  it('manual capture: approved to requires_capture, then a partial capture', async () => {
    const captures = (await paypalState()).captures.length;
    const intent = await createPayPal({ amount: 5000, capture_method: 'manual' });
    const shopper = await completeThreeDSecure(redirectOf(intent), 'approve');
    expect(shopper.merchantUrl?.searchParams.get('redirect_status')).toBe('succeeded');
    const authorized = await stripe.paymentIntents.retrieve(intent.id);
    expect(authorized.status).toBe('requires_capture');
    expect(authorized.amount_capturable).toBe(5000);
    expect((await paypalState()).captures.length).toBe(captures);
    const captured = await stripe.paymentIntents.capture(intent.id, { amount_to_capture: 4000 });
    expect(captured.status).toBe('succeeded');
    expect(captured.amount_received).toBe(4000);
    const state = await paypalState();
    expect(state.captures.length).toBe(captures + 1);
    expect(state.captures.at(-1)?.amount.value).toBe('40.00');
  });

  it("completes on PayPal's webhook when the payer never comes back through the hop", async () => {
    const intent = await createPayPal({ amount: 1234 });
    const page = await fetch(`${redirectOf(intent)}&action=approve`, { redirect: 'manual' });
    expect(page.status).toBe(302);
    // Not following the redirect: CHECKOUT.ORDER.APPROVED reaches /webhooks/paypal instead.
    const done = await waitFor('the PayPal webhook to complete the payment', async () => {
      const reply = await stripe.paymentIntents.retrieve(intent.id);
      return reply.status === 'succeeded' ? reply : undefined;
    });
    expect(done.amount_received).toBe(1234);
  });

  it('a stale approval page after a re-confirmation charges nothing', async () => {
    const captures = (await paypalState()).captures.length;
    const intent = await createPayPal({ amount: 2500 });
    const stale = redirectOf(intent);
    const reconfirmed = await stripe.paymentIntents.confirm(intent.id, {
      payment_method_data: { type: 'paypal' },
      return_url: RETURN_URL,
    });
    const fresh = redirectOf(reconfirmed);
    expect(fresh).not.toBe(stale);
    await fetch(`${stale}&action=approve`, { redirect: 'manual' });
    await completeThreeDSecure(fresh, 'approve');
    const done = await stripe.paymentIntents.retrieve(intent.id);
    expect(done.status).toBe('succeeded');
    // Give the stale order's webhook time to arrive; it must not be captured.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await paypalState()).captures.length).toBe(captures + 1);
    const attempts = await attemptsOf(t, intent.id);
    expect(attempts.map((a) => a.status)).toEqual(['canceled', 'succeeded']);
  });

  it('refuses a PayPal confirmation without return_url, naming it', async () => {
    const error = await createPayPal({ return_url: undefined }).then(
      () => undefined,
      (e: Stripe.errors.StripeError) => e,
    );
    expect(error?.statusCode).toBe(400);
    expect(error?.param).toBe('return_url');
  });
});
