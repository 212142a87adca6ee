import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmulatorHarness, startHarness } from './emulator-support.js';
import { shapeDifferences, stripeFixtures } from './support/stripe-shape.js';

let h: EmulatorHarness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.emulator.close();
});

const card = (number: string) => ({
  number,
  exp_month: 12,
  exp_year: new Date().getUTCFullYear() + 2,
  cvc: '123',
});

async function payWith(number: string, extra: Partial<Stripe.PaymentIntentCreateParams> = {}) {
  const pm = await h.stripe.paymentMethods.create({ type: 'card', card: card(number) });
  return h.stripe.paymentIntents.create({
    amount: 2000,
    currency: 'usd',
    payment_method: pm.id,
    confirm: true,
    ...extra,
  });
}

async function cardError(promise: Promise<unknown>): Promise<Stripe.errors.StripeCardError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Stripe.errors.StripeCardError);
  return error as Stripe.errors.StripeCardError;
}

describe('payments', () => {
  it('creates a payment method and confirms a payment that succeeds with one charge and its fee', async () => {
    const pm = await h.stripe.paymentMethods.create({ type: 'card', card: card('4242424242424242') });
    expect(pm).toMatchObject({
      object: 'payment_method',
      type: 'card',
      card: { brand: 'visa', last4: '4242' },
    });
    const pi = await h.stripe.paymentIntents.create({
      amount: 1099,
      currency: 'usd',
      payment_method: pm.id,
      confirm: true,
      capture_method: 'automatic',
      expand: ['latest_charge.balance_transaction'],
    });
    expect(pi.status).toBe('succeeded');
    expect(pi.amount_received).toBe(1099);
    const charge = pi.latest_charge as Stripe.Charge;
    expect(charge).toMatchObject({ status: 'succeeded', paid: true, captured: true, amount_captured: 1099 });
    const txn = charge.balance_transaction as Stripe.BalanceTransaction;
    // 2.9% of 1099 is 31.871, rounded to 32, plus 30.
    expect(txn).toMatchObject({ amount: 1099, fee: 62, net: 1037, type: 'charge', source: charge.id });
    const charges = await h.stripe.charges.list({ payment_intent: pi.id });
    expect(charges.data.map((c) => c.id)).toEqual([charge.id]);
    const retrieved = await h.stripe.paymentIntents.retrieve(pi.id);
    expect(retrieved.latest_charge).toBe(charge.id);
  });

  it('accepts Stripe test payment method ids', async () => {
    const pi = await h.stripe.paymentIntents.create({
      amount: 500,
      currency: 'eur',
      payment_method: 'pm_card_mastercard',
      confirm: true,
    });
    expect(pi.status).toBe('succeeded');
    expect(pi.payment_method).toMatch(/^pm_/);
    const pm = await h.stripe.paymentMethods.retrieve(pi.payment_method as string);
    expect(pm.card?.brand).toBe('mastercard');
  });

  it('raises StripeCardError with decline_code for a declined card and leaves a failed charge', async () => {
    const error = await cardError(payWith('4000000000000002'));
    expect(error.statusCode).toBe(402);
    expect(error.code).toBe('card_declined');
    expect(error.decline_code).toBe('generic_decline');
    expect(error.payment_intent?.status).toBe('requires_payment_method');
    expect(error.payment_intent?.last_payment_error?.decline_code).toBe('generic_decline');
    const charge = await h.stripe.charges.retrieve(error.charge as string);
    expect(charge).toMatchObject({ status: 'failed', failure_code: 'card_declined', paid: false });
  });

  it('declines for insufficient funds and for processing errors', async () => {
    const funds = await cardError(payWith('4000000000009995'));
    expect([funds.code, funds.decline_code]).toEqual(['card_declined', 'insufficient_funds']);
    const viaTestId = await cardError(
      h.stripe.paymentIntents.create({
        amount: 900,
        currency: 'usd',
        payment_method: 'pm_card_chargeDeclinedInsufficientFunds',
        confirm: true,
      }),
    );
    expect(viaTestId.decline_code).toBe('insufficient_funds');
    const processing = await cardError(payWith('4000000000000119'));
    expect(processing.code).toBe('processing_error');
  });

  it('refuses an expired card, a bad Luhn number and a live card with Stripe errors', async () => {
    const expired = await cardError(
      h.stripe.paymentMethods.create({
        type: 'card',
        card: { number: '4242424242424242', exp_month: 1, exp_year: 2020, cvc: '123' },
      }),
    );
    expect([expired.code, expired.param]).toEqual(['invalid_expiry_year', 'exp_year']);
    const luhn = await cardError(
      h.stripe.paymentMethods.create({ type: 'card', card: card('4242424242424241') }),
    );
    expect(luhn.code).toBe('incorrect_number');
    const declinedExpired = await cardError(payWith('4000000000000069'));
    expect(declinedExpired.code).toBe('expired_card');
    const live = await h
      .sdk('sk_live_abcdefghijklmnop')
      .paymentIntents.list()
      .catch((e: unknown) => e);
    expect(live).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
  });

  it('answers unknown parameters and missing objects the way Stripe does', async () => {
    const unknown = await h.api.post('/v1/payment_intents', { amount: 100, currency: 'usd', colour: 'red' });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ error: { type: 'invalid_request_error', param: 'colour' } });
    expect(unknown.headers.get('request-id')).toMatch(/^req_/);
    const missing = await h.stripe.paymentIntents.retrieve('pi_doesnotexist').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect((missing as Stripe.errors.StripeError).code).toBe('resource_missing');
    expect((missing as Stripe.errors.StripeError).statusCode).toBe(404);
  });

  it('keeps each API key to its own account', async () => {
    const pi = await h.stripe.paymentIntents.create({ amount: 700, currency: 'usd' });
    const other = h.sdk('sk_test_another_merchant');
    const error = await other.paymentIntents.retrieve(pi.id).catch((e: unknown) => e);
    expect((error as Stripe.errors.StripeError).statusCode).toBe(404);
    const list = await other.paymentIntents.list();
    expect(list.data.find((p) => p.id === pi.id)).toBeUndefined();
  });
});

describe('two-step flow', () => {
  it('creates an unconfirmed intent, then confirms it with raw card data', async () => {
    const pi = await h.stripe.paymentIntents.create({
      amount: 3100,
      currency: 'usd',
      metadata: { order: '42' },
    });
    expect(pi.status).toBe('requires_payment_method');
    const updated = await h.stripe.paymentIntents.update(pi.id, { metadata: { attempt: 'a1' } });
    expect(updated.metadata).toEqual({ order: '42', attempt: 'a1' });
    const confirmed = await h.stripe.paymentIntents.confirm(
      pi.id,
      {
        // Raw card data is a gated Stripe feature, absent from the SDK's public types.
        payment_method_data: {
          type: 'card',
          card: card('4242424242424242'),
        } as unknown as Stripe.PaymentIntentConfirmParams.PaymentMethodData,
        return_url: 'https://shop.example/r',
      },
      { idempotencyKey: 'test:attempt_1:confirm' },
    );
    expect(confirmed.status).toBe('succeeded');
    const again = await h.stripe.paymentIntents.confirm(pi.id).catch((e: unknown) => e);
    expect((again as Stripe.errors.StripeError).code).toBe('payment_intent_unexpected_state');
  });

  it('declines a card that needs authentication when the payment is off session', async () => {
    const error = await cardError(payWith('4000002500003155', { off_session: true }));
    expect(error.code).toBe('authentication_required');
  });
});

describe('3-D Secure', () => {
  async function startChallenge() {
    const pi = await payWith('4000002500003155', { return_url: 'https://shop.example/return?order=7' });
    expect(pi.status).toBe('requires_action');
    expect(pi.next_action?.type).toBe('redirect_to_url');
    const url = pi.next_action?.redirect_to_url?.url as string;
    expect(url.startsWith(h.emulator.url)).toBe(true);
    return { pi, url };
  }

  it('approve on the redirect page charges the card and returns to return_url', async () => {
    const { pi, url } = await startChallenge();
    const page = await fetch(url);
    expect(await page.text()).toContain('action=approve');
    const response = await fetch(`${url}?action=approve`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!);
    expect(location.origin + location.pathname).toBe('https://shop.example/return');
    expect(location.searchParams.get('order')).toBe('7');
    expect(location.searchParams.get('payment_intent')).toBe(pi.id);
    expect(location.searchParams.get('payment_intent_client_secret')).toBe(pi.client_secret);
    expect(location.searchParams.get('redirect_status')).toBe('succeeded');
    const after = await h.stripe.paymentIntents.retrieve(pi.id, { expand: ['latest_charge'] });
    expect(after.status).toBe('succeeded');
    expect((after.latest_charge as Stripe.Charge).payment_method_details?.card?.three_d_secure?.result).toBe(
      'authenticated',
    );
  });

  it('fail on the redirect page leaves the payment unpaid with no charge', async () => {
    const { pi, url } = await startChallenge();
    const response = await fetch(`${url}?action=fail`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(new URL(response.headers.get('location')!).searchParams.get('redirect_status')).toBe('failed');
    const after = await h.stripe.paymentIntents.retrieve(pi.id);
    expect(after.status).toBe('requires_payment_method');
    expect(after.last_payment_error?.code).toBe('payment_intent_authentication_failure');
    expect((await h.stripe.charges.list({ payment_intent: pi.id })).data).toEqual([]);
  });
});

describe('capture and refunds', () => {
  it('captures part of a manual authorization and releases the rest', async () => {
    const pi = await payWith('4242424242424242', { capture_method: 'manual', amount: 5000 });
    expect(pi.status).toBe('requires_capture');
    expect(pi.amount_capturable).toBe(5000);
    const captured = await h.stripe.paymentIntents.capture(pi.id, { amount_to_capture: 3000 });
    expect(captured).toMatchObject({ status: 'succeeded', amount_received: 3000, amount_capturable: 0 });
    const charge = await h.stripe.charges.retrieve(captured.latest_charge as string, {
      expand: ['balance_transaction'],
    });
    expect(charge).toMatchObject({ captured: true, amount: 5000, amount_captured: 3000 });
    expect((charge.balance_transaction as Stripe.BalanceTransaction).amount).toBe(3000);
    const again = await h.stripe.paymentIntents.capture(pi.id).catch((e: unknown) => e);
    expect((again as Stripe.errors.StripeError).code).toBe('payment_intent_unexpected_state');
    const refund = await h.stripe.refunds
      .create({ payment_intent: pi.id, amount: 3001 })
      .catch((e: unknown) => e);
    expect((refund as Stripe.errors.StripeError).code).toBe('amount_too_large');
  });

  it('refunds partially, then fully, and refuses to refund more than was captured', async () => {
    const pi = await payWith('4242424242424242', { amount: 2500, capture_method: 'automatic' });
    const partial = await h.stripe.refunds.create({ payment_intent: pi.id, amount: 1000 });
    expect(partial).toMatchObject({ status: 'succeeded', amount: 1000, payment_intent: pi.id });
    const rest = await h.stripe.refunds.create({ payment_intent: pi.id });
    expect(rest.amount).toBe(1500);
    const over = await h.stripe.refunds.create({ payment_intent: pi.id, amount: 1 }).catch((e: unknown) => e);
    expect(over).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect((over as Stripe.errors.StripeError).code).toBe('charge_already_refunded');
    const charge = await h.stripe.charges.retrieve(pi.latest_charge as string);
    expect(charge).toMatchObject({ amount_refunded: 2500, refunded: true });
    const refunds = await h.stripe.refunds.list({ payment_intent: pi.id });
    expect(refunds.data.map((r) => r.amount)).toEqual([1500, 1000]);
    const txn = await h.stripe.balanceTransactions.retrieve(partial.balance_transaction as string);
    expect(txn).toMatchObject({ type: 'refund', amount: -1000, net: -1000, source: partial.id });
  });

  it('cancels an uncaptured payment', async () => {
    const pi = await payWith('4242424242424242', { capture_method: 'manual' });
    const canceled = await h.stripe.paymentIntents.cancel(pi.id, { cancellation_reason: 'abandoned' });
    expect(canceled).toMatchObject({
      status: 'canceled',
      cancellation_reason: 'abandoned',
      amount_capturable: 0,
    });
  });

  it('settles automatic_async captures just after answering', async () => {
    const pi = await payWith('4242424242424242', { capture_method: 'automatic_async' });
    expect(pi.status).toBe('succeeded');
    await new Promise((resolve) => setImmediate(resolve));
    const charge = await h.stripe.charges.retrieve(pi.latest_charge as string);
    expect(charge.balance_transaction).toMatch(/^txn_/);
  });
});

describe('lists', () => {
  it('pages newest first with starting_after and ending_before', async () => {
    const key = h.sdk('sk_test_list_pages');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await key.paymentIntents.create({ amount: 100 + i, currency: 'usd' })).id);
    const first = await key.paymentIntents.list({ limit: 2 });
    expect(first.data.map((p) => p.id)).toEqual([ids[4], ids[3]]);
    expect(first.has_more).toBe(true);
    const second = await key.paymentIntents.list({ limit: 2, starting_after: ids[3] });
    expect(second.data.map((p) => p.id)).toEqual([ids[2], ids[1]]);
    const back = await key.paymentIntents.list({ limit: 2, ending_before: ids[1] });
    expect(back.data.map((p) => p.id)).toEqual([ids[3], ids[2]]);
    const all: string[] = [];
    for await (const pi of key.paymentIntents.list({ limit: 2 })) all.push(pi.id);
    expect(all).toEqual([...ids].reverse());
  });
});

describe('wire shapes', () => {
  const fixtures = stripeFixtures.resources as Record<string, unknown>;

  it('renders every field of Stripe example objects with the same types', async () => {
    const pi = await payWith('4000000000000259', { capture_method: 'automatic' });
    const charge = await h.stripe.charges.retrieve(pi.latest_charge as string);
    await h.stripe.refunds
      .create({ payment_intent: (await payWith('4242424242424242')).id, amount: 100 })
      .then(async (refund) => {
        expect(shapeDifferences(refund, fixtures.refund)).toEqual([]);
        const txn = await h.stripe.balanceTransactions.retrieve(refund.balance_transaction as string);
        expect(shapeDifferences(txn, fixtures.balance_transaction)).toEqual([]);
      });
    const pm = await h.stripe.paymentMethods.create({
      type: 'card',
      card: card('4242424242424242'),
      metadata: { order_id: '123456789' },
    });
    const disputes = await h.stripe.disputes.list({ charge: charge.id });
    const events = await h.stripe.events.list({ limit: 1 });
    expect(shapeDifferences(pi, fixtures.payment_intent)).toEqual([]);
    expect(shapeDifferences(charge, fixtures.charge)).toEqual([]);
    expect(shapeDifferences(pm, fixtures.payment_method)).toEqual([]);
    expect(shapeDifferences(disputes.data[0], fixtures.dispute)).toEqual([]);
    expect(
      shapeDifferences({ ...events.data[0], data: {} }, { ...(fixtures.event as object), data: {} }),
    ).toEqual([]);
  });
});
