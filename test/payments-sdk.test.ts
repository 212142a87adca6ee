import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMerchant, startTestService, type TestService } from './support/service.js';
import { expectSameShape, stripeFixtures } from './support/stripe-shape.js';
import { waitFor } from './support/wait.js';

let t: TestService;
let stripe: Stripe;
beforeAll(async () => {
  t = await startTestService();
  stripe = sdk(t.secretKey);
});
afterAll(async () => {
  await webhooksDelivered();
  await t.close();
});

function sdk(key: string): Stripe {
  return new Stripe(key, {
    host: '127.0.0.1',
    port: Number(new URL(t.url).port),
    protocol: 'http',
    maxNetworkRetries: 0,
  });
}

const fixtures = stripeFixtures as { resources: Record<string, unknown> };

const expYear = new Date().getUTCFullYear() + 3;

/**
 * Waits until the emulator's webhooks to us are all answered: a webhook still in flight when the
 * service closes keeps its keep-alive connection open past the hook timeout (reported).
 */
async function webhooksDelivered(): Promise<void> {
  const url = t.service.providers.emulators.stripe?.url;
  if (!url) throw new Error('the embedded Stripe emulator is not running');
  await waitFor('the emulator to finish delivering webhooks', async () => {
    const state = (await (await fetch(`${url}/_emulator/state?types=none`)).json()) as {
      webhooks: { queued: number; in_flight: number };
    };
    return state.webhooks.queued === 0 && state.webhooks.in_flight === 0;
  });
}

/** The SDK call's rejection, or a failure if it resolved. */
async function rejection(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  return outcome.error as Stripe.errors.StripeError;
}

describe('customers and payment methods through the SDK', () => {
  it('creates a customer, and card payment methods with the secret and the publishable key', async () => {
    const customer = await stripe.customers.create({ email: 'sdk@example.com', name: 'SDK Shopper' });
    expect(customer).toMatchObject({ object: 'customer', email: 'sdk@example.com', livemode: false });
    expect(customer.id).toMatch(/^cus_/);

    const withSecret = await stripe.paymentMethods.create({
      type: 'card',
      card: { number: '4242424242424242', exp_month: 12, exp_year: expYear, cvc: '123' },
    });
    expect(withSecret).toMatchObject({ object: 'payment_method', type: 'card', card: { last4: '4242' } });

    const browser = sdk(t.publishableKey);
    const withPublishable = await browser.paymentMethods.create({
      type: 'card',
      card: { number: '5555555555554444', exp_month: 6, exp_year: expYear, cvc: '321' },
    });
    expect(withPublishable.card).toMatchObject({ brand: 'mastercard', last4: '4444', exp_month: 6 });
    // The publishable key creates and nothing else.
    const read = await rejection(browser.paymentMethods.retrieve(withPublishable.id));
    expect(read.statusCode).toBe(403);

    const attached = await stripe.paymentMethods.attach(withPublishable.id, { customer: customer.id });
    expect(attached.customer).toBe(customer.id);
  });
});

describe('confirming through the SDK', () => {
  it('creates for a customer, confirms in a second call, and succeeds with one charge', async () => {
    const customer = await stripe.customers.create({ email: 'payer@example.com' });
    const pm = await stripe.paymentMethods.create({
      type: 'card',
      card: { number: '4242424242424242', exp_month: 12, exp_year: expYear, cvc: '123' },
    });
    const created = await stripe.paymentIntents.create({
      amount: 2500,
      currency: 'usd',
      customer: customer.id,
      payment_method: pm.id,
      // The SDK's API version names them allowed_payment_method_types; both spellings are accepted.
      allowed_payment_method_types: ['card'],
      description: 'SDK order',
    });
    expect(created).toMatchObject({
      status: 'requires_confirmation',
      customer: customer.id,
      amount: 2500,
      payment_method_types: ['card'],
    });
    const confirmed = await stripe.paymentIntents.confirm(created.id);
    expect(confirmed).toMatchObject({ id: created.id, status: 'succeeded', amount_received: 2500 });
    expect(confirmed.latest_charge).toMatch(/^ch_/);
    const charge = await stripe.charges.retrieve(confirmed.latest_charge as string);
    expect(charge).toMatchObject({
      amount: 2500,
      captured: true,
      paid: true,
      status: 'succeeded',
      customer: customer.id,
      payment_intent: created.id,
      payment_method: pm.id,
    });
    const charges = await stripe.charges.list({ payment_intent: created.id });
    expect(charges.data.map((c) => c.id)).toEqual([charge.id]);
  });

  it.each([
    ['pm_card_chargeDeclined', 'generic_decline'],
    ['pm_card_chargeDeclinedInsufficientFunds', 'insufficient_funds'],
  ])('raises StripeCardError for %s with decline_code %s and the payment intent', async (pm, declineCode) => {
    const error = await rejection(
      stripe.paymentIntents.create({ amount: 1800, currency: 'usd', payment_method: pm, confirm: true }),
    );
    expect(error).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(error).toMatchObject({
      type: 'StripeCardError',
      statusCode: 402,
      code: 'card_declined',
      decline_code: declineCode,
    });
    expect(error.charge).toMatch(/^ch_/);
    const intent = error.payment_intent as Stripe.PaymentIntent;
    expect(intent).toMatchObject({ object: 'payment_intent', status: 'requires_payment_method' });
    expect(intent.last_payment_error).toMatchObject({ code: 'card_declined', decline_code: declineCode });
    const stored = await stripe.paymentIntents.retrieve(intent.id);
    expect(stored).toMatchObject({ status: 'requires_payment_method', amount_received: 0 });
    const charge = await stripe.charges.retrieve(error.charge as string);
    expect(charge).toMatchObject({ status: 'failed', paid: false, failure_code: 'card_declined' });
  });

  it.each([
    ['approve', 'succeeded', 'succeeded'],
    ['fail', 'failed', 'requires_payment_method'],
  ])(
    '3DS %s: the shopper returns with redirect_status %s and the intent is %s',
    async (action, redirectStatus, status) => {
      const created = await stripe.paymentIntents.create({
        amount: 1500,
        currency: 'usd',
        payment_method: 'pm_card_authenticationRequired',
        confirm: true,
        return_url: 'https://shop.example/back?cart=3',
      });
      expect(created.status).toBe('requires_action');
      expect(created.next_action?.type).toBe('redirect_to_url');
      const redirect = created.next_action?.redirect_to_url as { url: string; return_url: string };
      expect(redirect.return_url).toBe('https://shop.example/back?cart=3');

      const page = await fetch(`${redirect.url}${redirect.url.includes('?') ? '&' : '?'}action=${action}`, {
        redirect: 'manual',
      });
      expect(page.status).toBe(302);
      const hop = page.headers.get('location') as string;
      expect(hop.startsWith(`${t.url}/return/stripe/`)).toBe(true);
      const back = await fetch(hop, { redirect: 'manual' });
      expect(back.status).toBe(302);
      const merchantUrl = new URL(back.headers.get('location') as string);
      expect(merchantUrl.origin + merchantUrl.pathname).toBe('https://shop.example/back');
      expect(Object.fromEntries(merchantUrl.searchParams)).toEqual({
        cart: '3',
        payment_intent: created.id,
        payment_intent_client_secret: created.client_secret,
        redirect_status: redirectStatus,
      });
      const after = await stripe.paymentIntents.retrieve(created.id);
      expect(after.status).toBe(status);
      expect(after.next_action).toBeNull();
      if (status === 'succeeded') expect(after.amount_received).toBe(1500);
      else expect(after.last_payment_error).not.toBeNull();
    },
  );

  it('keeps the confirmation_method it was given', async () => {
    const manual = await stripe.paymentIntents.create({
      amount: 1100,
      currency: 'usd',
      confirmation_method: 'manual',
    });
    expect(manual.confirmation_method).toBe('manual');
    expect((await stripe.paymentIntents.retrieve(manual.id)).confirmation_method).toBe('manual');
    const automatic = await stripe.paymentIntents.create({ amount: 1100, currency: 'usd' });
    expect(automatic.confirmation_method).toBe('automatic');
  });

  it('authorizes with manual capture and captures part of it', async () => {
    const authorized = await stripe.paymentIntents.create({
      amount: 8000,
      currency: 'eur',
      payment_method: 'pm_card_mastercard',
      capture_method: 'manual',
      confirm: true,
    });
    expect(authorized).toMatchObject({ status: 'requires_capture', amount_capturable: 8000 });
    const captured = await stripe.paymentIntents.capture(authorized.id, { amount_to_capture: 5000 });
    expect(captured).toMatchObject({ status: 'succeeded', amount_received: 5000, amount_capturable: 0 });
    const charge = await stripe.charges.retrieve(captured.latest_charge as string);
    expect(charge).toMatchObject({ amount: 8000, amount_captured: 5000, captured: true });
  });
});

describe('listing and searching through the SDK', () => {
  it('pages 15 intents by 5 with starting_after, newest first, expanding data.latest_charge', async () => {
    // A merchant of its own, so the list holds exactly these intents.
    const other = await createMerchant(t, 'SDK list merchant');
    const client = sdk(other.secretKey);
    const ids: string[] = [];
    for (let i = 0; i < 15; i++) {
      const intent = await client.paymentIntents.create({
        amount: 100 + i,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
      });
      ids.push(intent.id);
    }
    const pages: Stripe.ApiList<Stripe.PaymentIntent>[] = [];
    let startingAfter: string | undefined;
    for (let i = 0; i < 3; i++) {
      const page = await client.paymentIntents.list({
        limit: 5,
        expand: ['data.latest_charge'],
        ...(startingAfter ? { starting_after: startingAfter } : {}),
      });
      pages.push(page);
      startingAfter = page.data.at(-1)?.id;
    }
    expect(pages.map((p) => p.data.length)).toEqual([5, 5, 5]);
    expect(pages.map((p) => p.has_more)).toEqual([true, true, false]);
    const listed = pages.flatMap((p) => p.data);
    // Newest first: the reverse of creation order.
    expect(listed.map((p) => p.id)).toEqual([...ids].reverse());
    for (const intent of listed) {
      const charge = intent.latest_charge as Stripe.Charge;
      expect(charge).toMatchObject({ object: 'charge', payment_intent: intent.id, amount: intent.amount });
    }
    const auto = await client.paymentIntents.list({ limit: 4 }).autoPagingToArray({ limit: 100 });
    expect(auto.map((p) => p.id)).toEqual([...ids].reverse());
    const back = await client.paymentIntents.list({ limit: 5, ending_before: ids[4] as string });
    expect(back.data.map((p) => p.id)).toEqual(ids.slice(5, 10).reverse());
  });

  it("finds intents by metadata with search and never another merchant's", async () => {
    const order = `ord-${Date.now()}`;
    const first = await stripe.paymentIntents.create({ amount: 900, currency: 'usd', metadata: { order } });
    const second = await stripe.paymentIntents.create({
      amount: 901,
      currency: 'usd',
      metadata: { order, note: 'x' },
    });
    await stripe.paymentIntents.create({
      amount: 902,
      currency: 'usd',
      metadata: { order: `${order}-other` },
    });
    const other = await createMerchant(t, 'SDK search merchant');
    await sdk(other.secretKey).paymentIntents.create({ amount: 903, currency: 'usd', metadata: { order } });

    const found = await stripe.paymentIntents.search({ query: `metadata['order']:'${order}'` });
    expect(found.object).toBe('search_result');
    expect(found.data.map((p) => p.id).sort()).toEqual([first.id, second.id].sort());
    const both = await stripe.paymentIntents.search({
      query: `metadata['order']:'${order}' AND metadata['note']:'x'`,
    });
    expect(both.data.map((p) => p.id)).toEqual([second.id]);
    const paged = await stripe.paymentIntents.search({ query: `metadata['order']:'${order}'`, limit: 1 });
    expect(paged).toMatchObject({ has_more: true });
    const next = await stripe.paymentIntents.search({
      query: `metadata['order']:'${order}'`,
      limit: 1,
      page: paged.next_page as string,
    });
    expect([...paged.data, ...next.data].map((p) => p.id).sort()).toEqual([first.id, second.id].sort());
    const bad = await rejection(stripe.paymentIntents.search({ query: 'amount>5' }));
    expect(bad).toMatchObject({ statusCode: 400, param: 'query' });
  });

  it('expands data.latest_charge on search results', async () => {
    const order = `expand-${Date.now()}`;
    const paid = await stripe.paymentIntents.create({
      amount: 1300,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      metadata: { order },
    });
    const found = await stripe.paymentIntents.search({
      query: `metadata['order']:'${order}'`,
      expand: ['data.latest_charge'],
    });
    expect(found.data.map((p) => p.id)).toEqual([paid.id]);
    expect(found.data[0]?.latest_charge).toMatchObject({ object: 'charge', payment_intent: paid.id });
  });
});

describe('idempotency through the SDK', () => {
  const params = {
    amount: 4200,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    confirm: true,
  } satisfies Stripe.PaymentIntentCreateParams;

  it('replays the same key with the same intent and Idempotent-Replayed: true', async () => {
    const key = `sdk-replay-${Date.now()}`;
    const first = await stripe.paymentIntents.create(params, { idempotencyKey: key });
    expect(first.status).toBe('succeeded');
    expect(first.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    const second = await stripe.paymentIntents.create(params, { idempotencyKey: key });
    expect(second.id).toBe(first.id);
    expect(second.latest_charge).toBe(first.latest_charge);
    expect(second.lastResponse.headers['idempotent-replayed']).toBe('true');
    // A raw client sees the same header, and the form encoding is the same canonical request.
    const raw = await fetch(`${t.url}/v1/payment_intents`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${t.secretKey}`,
        'content-type': 'application/x-www-form-urlencoded',
        'idempotency-key': key,
      },
      body: 'amount=4200&currency=usd&payment_method=pm_card_visa&confirm=true',
    });
    expect(raw.status).toBe(200);
    expect(raw.headers.get('idempotent-replayed')).toBe('true');
    expect(((await raw.json()) as { id: string }).id).toBe(first.id);
    const charges = await stripe.charges.list({ payment_intent: first.id });
    expect(charges.data).toHaveLength(1);
  });

  it('refuses the same key with other parameters as StripeIdempotencyError', async () => {
    const key = `sdk-mismatch-${Date.now()}`;
    const first = await stripe.paymentIntents.create(params, { idempotencyKey: key });
    const error = await rejection(
      stripe.paymentIntents.create({ ...params, amount: 4300 }, { idempotencyKey: key }),
    );
    expect(error).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(error).toMatchObject({ statusCode: 400, rawType: 'idempotency_error' });
    // Same key on another endpoint is refused too.
    const elsewhere = await rejection(
      stripe.customers.create({ email: 'x@example.com' }, { idempotencyKey: key }),
    );
    expect(elsewhere).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect((await stripe.paymentIntents.retrieve(first.id)).amount).toBe(4200);
  });
});

describe("objects have the shape of Stripe's", () => {
  it('payment intent and charge match the fixtures, fresh, succeeded and declined', async () => {
    const shapes = fixtures.resources;
    const fresh = await stripe.paymentIntents.create({
      amount: 1234,
      currency: 'usd',
      metadata: { order_id: '1' },
    });
    expectSameShape(JSON.parse(JSON.stringify(fresh)), shapes.payment_intent);
    const succeeded = await stripe.paymentIntents.create({
      amount: 1234,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      metadata: { order_id: '2' },
    });
    expectSameShape(succeeded, shapes.payment_intent);
    const charge = await stripe.charges.retrieve(succeeded.latest_charge as string);
    expectSameShape(charge, shapes.charge);
    const declined = await rejection(
      stripe.paymentIntents.create({
        amount: 1234,
        currency: 'usd',
        payment_method: 'pm_card_chargeDeclined',
        confirm: true,
      }),
    );
    expectSameShape(declined.payment_intent, shapes.payment_intent);
    expectSameShape(await stripe.charges.retrieve(declined.charge as string), shapes.charge);
    const expanded = await stripe.paymentIntents.retrieve(succeeded.id, {
      expand: ['latest_charge', 'payment_method'],
    });
    expectSameShape(expanded.latest_charge, shapes.charge);
    expectSameShape(expanded.payment_method, { ...(shapes.payment_method as object), metadata: {} });
  });
});
