import { sql } from 'kysely';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMerchant, startTestService, type TestService } from './support/service.js';
import { expectSameShape, stripeFixtures } from './support/stripe-shape.js';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t.close();
});

type PaymentMethod = Record<string, unknown> & {
  id: string;
  customer: string | null;
  metadata: Record<string, string>;
  card: Record<string, unknown> & { brand: string; last4: string; fingerprint: string; exp_month: number };
};
type ErrorBody = { error: { type: string; code: string; param?: string; message: string } };

const year = new Date().getUTCFullYear() + 3;
const card = (number: string, extra: Record<string, unknown> = {}) => ({
  type: 'card',
  card: { number, exp_month: 12, exp_year: year, cvc: '123', ...extra },
});

async function storedCounts() {
  const db = t.service.database.db;
  const count = async (table: 'payment_methods' | 'vault_cards' | 'vault_cvcs') =>
    Number(
      (await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(db)).rows[0]?.n,
    );
  return {
    pms: await count('payment_methods'),
    cards: await count('vault_cards'),
    cvcs: await count('vault_cvcs'),
  };
}

describe('creating payment methods', () => {
  it('creates a card with the secret key, showing brand and last 4 but never the number', async () => {
    const created = await t.merchant.post<PaymentMethod>('/v1/payment_methods', {
      ...card('4242424242424242'),
      billing_details: { name: 'Jenny Rosen', address: { postal_code: '94102' } },
      metadata: { order: '7' },
    });
    expect(created.status, created.text).toBe(200);
    expect(created.body).toMatchObject({
      object: 'payment_method',
      type: 'card',
      livemode: false,
      customer: null,
      metadata: { order: '7' },
      card: {
        brand: 'visa',
        display_brand: 'visa',
        last4: '4242',
        exp_month: 12,
        exp_year: year,
        funding: 'credit',
        country: 'US',
        checks: { cvc_check: 'unchecked', address_postal_code_check: 'unchecked', address_line1_check: null },
        networks: { available: ['visa'], preferred: null },
        wallet: null,
      },
      billing_details: { name: 'Jenny Rosen', address: { postal_code: '94102', line1: null } },
    });
    expect(created.body.id).toMatch(/^pm_/);
    expect(created.body.card.fingerprint).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(created.text).not.toContain('4242424242424242');
    const fetched = await t.merchant.get<PaymentMethod>(`/v1/payment_methods/${created.body.id}`);
    expect(fetched.body).toEqual(created.body);
  });

  it("has the fields, types and nesting of Stripe's payment_method object", async () => {
    const fixtures = stripeFixtures;
    const created = await t.merchant.post<PaymentMethod>('/v1/payment_methods', {
      ...card('5555555555554444'),
      metadata: { order_id: '1' },
    });
    expectSameShape(created.body, fixtures.resources.payment_method);
    // A shared test id has no metadata; everything else must match.
    const test = await t.merchant.get<PaymentMethod>('/v1/payment_methods/pm_card_visa');
    expectSameShape(test.body, { ...fixtures.resources.payment_method, metadata: {} });
  });

  it('gives the same card the same fingerprint within a merchant and a different one elsewhere', async () => {
    const first = await t.merchant.post<PaymentMethod>('/v1/payment_methods', card('4000056655665556'));
    const second = await t.merchant.post<PaymentMethod>('/v1/payment_methods', card('4000 0566 5566 5556'));
    const other = await createMerchant(t, 'Fingerprint merchant');
    const elsewhere = await other.api.post<PaymentMethod>('/v1/payment_methods', card('4000056655665556'));
    expect(second.body.card.fingerprint).toBe(first.body.card.fingerprint);
    expect(first.body.card.funding).toBe('debit');
    expect(elsewhere.body.card.fingerprint).not.toBe(first.body.card.fingerprint);
  });

  it('detects every brand and checks the CVC length by brand', async () => {
    const cases: [string, string, string, string][] = [
      ['378282246310005', 'amex', 'american_express', '1234'],
      ['6011111111111117', 'discover', 'discover', '123'],
      ['3566002020360505', 'jcb', 'jcb', '123'],
      ['36227206271667', 'diners', 'diners_club', '123'],
      ['6200000000000005', 'unionpay', 'union_pay', '123'],
      ['2223003122003222', 'mastercard', 'mastercard', '123'],
    ];
    for (const [number, brand, display, cvc] of cases) {
      const created = await t.merchant.post<PaymentMethod>('/v1/payment_methods', card(number, { cvc }));
      expect(created.status, `${brand}: ${created.text}`).toBe(200);
      expect(created.body.card).toMatchObject({ brand, display_brand: display, last4: number.slice(-4) });
    }
    const amexShort = await t.merchant.post<ErrorBody>(
      '/v1/payment_methods',
      card('378282246310005', { cvc: '123' }),
    );
    expect(amexShort.status).toBe(400);
    expect(amexShort.body.error).toMatchObject({ code: 'invalid_cvc', param: 'card[cvc]' });
  });

  it('accepts a publishable key on creation only, and JSON bodies', async () => {
    const created = await t.api.post<PaymentMethod>('/v1/payment_methods', card('4242424242424242'), {
      key: t.publishableKey,
      as: 'json',
    });
    expect(created.status, created.text).toBe(200);
    expect(created.body.card.last4).toBe('4242');
    const read = await t.api.get<ErrorBody>(`/v1/payment_methods/${created.body.id}`, undefined, {
      key: t.publishableKey,
    });
    expect(read.status).toBe(403);
    const listed = await t.api.get('/v1/customers', undefined, { key: t.publishableKey });
    expect(listed.status).toBe(403);
  });

  it('works with the official Stripe SDK and a publishable key', async () => {
    const port = Number(new URL(t.url).port);
    const stripe = new Stripe(t.publishableKey, {
      host: '127.0.0.1',
      port,
      protocol: 'http',
      maxNetworkRetries: 0,
    });
    const created = await stripe.paymentMethods.create({
      type: 'card',
      card: { number: '4242424242424242', exp_month: 8, exp_year: year, cvc: '314' },
      billing_details: { email: 'jenny@example.com' },
    });
    expect(created.card?.brand).toBe('visa');
    expect(created.card?.exp_month).toBe(8);
    expect(created.billing_details.email).toBe('jenny@example.com');
    const secret = new Stripe(t.secretKey, {
      host: '127.0.0.1',
      port,
      protocol: 'http',
      maxNetworkRetries: 0,
    });
    expect((await secret.paymentMethods.retrieve(created.id)).id).toBe(created.id);
    const error = await stripe.paymentMethods
      .create({ type: 'card', card: { number: '4242424242424241', exp_month: 8, exp_year: year } })
      .catch((e: unknown) => e as { code?: string; param?: string; statusCode?: number });
    expect(error).toMatchObject({ code: 'incorrect_number', param: 'card[number]', statusCode: 400 });
  });
});

describe('CORS for the browser path', () => {
  it('answers the preflight for POST /v1/payment_methods and marks the answers, errors included', async () => {
    const preflight = await fetch(`${t.url}/v1/payment_methods`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://shop.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-methods')).toBe('POST');
    const allowed = (preflight.headers.get('access-control-allow-headers') ?? '').split(/,\s*/);
    expect(allowed).toEqual(expect.arrayContaining(['authorization', 'content-type', 'idempotency-key']));

    const created = await t.api.post('/v1/payment_methods', card('4242424242424242'), {
      key: t.publishableKey,
      headers: { origin: 'https://shop.example' },
    });
    expect(created.headers.get('access-control-allow-origin')).toBe('*');
    const refused = await t.api.post('/v1/payment_methods', card('4242424242424241'), {
      key: t.publishableKey,
    });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('gives no other route CORS', async () => {
    const customers = await fetch(`${t.url}/v1/customers`, {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' },
    });
    expect(customers.headers.get('access-control-allow-origin')).toBeNull();
    const pm = await t.merchant.post<PaymentMethod>('/v1/payment_methods', card('4242424242424242'));
    const read = await t.merchant.get(`/v1/payment_methods/${pm.body.id}`);
    expect(read.headers.get('access-control-allow-origin')).toBeNull();
    const customer = await t.merchant.post('/v1/customers', { name: 'x' });
    expect(customer.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('refused card details', () => {
  const thisYear = new Date().getUTCFullYear();
  const thisMonth = new Date().getUTCMonth() + 1;
  it.each([
    ['a number failing Luhn', card('4242424242424241'), 'incorrect_number', 'card[number]'],
    ['letters in the number', card('4242abcd42424242'), 'invalid_number', 'card[number]'],
    [
      'an expired year',
      card('4242424242424242', { exp_year: thisYear - 1 }),
      'invalid_expiry_year',
      'card[exp_year]',
    ],
    ['month 13', card('4242424242424242', { exp_month: 13 }), 'invalid_expiry_month', 'card[exp_month]'],
    ['a two-letter CVC', card('4242424242424242', { cvc: '1a3' }), 'invalid_cvc', 'card[cvc]'],
    ['a 4-digit CVC on visa', card('4242424242424242', { cvc: '1234' }), 'invalid_cvc', 'card[cvc]'],
    [
      'a missing number',
      { type: 'card', card: { exp_month: 1, exp_year: year } },
      'parameter_missing',
      'card[number]',
    ],
    [
      'a missing expiry month',
      { type: 'card', card: { number: '4242424242424242', exp_year: year } },
      'parameter_missing',
      'card[exp_month]',
    ],
    ['no card at all', { type: 'card' }, 'parameter_missing', 'card'],
    [
      'no type',
      { card: { number: '4242424242424242', exp_month: 1, exp_year: year } },
      'parameter_missing',
      'type',
    ],
  ])('answers 400 for %s, naming the parameter, and stores nothing', async (_name, body, code, param) => {
    const before = await storedCounts();
    const response = await t.merchant.post<ErrorBody>('/v1/payment_methods', body);
    expect(response.status, response.text).toBe(400);
    expect(response.body.error).toMatchObject({ type: 'invalid_request_error', code, param });
    expect(response.text).not.toMatch(/4242424242424242|4242424242424241/);
    expect(await storedCounts()).toEqual(before);
  });

  it('refuses a month already past in the current year', async () => {
    if (thisMonth === 1) return; // No month of this year has passed yet.
    const response = await t.merchant.post<ErrorBody>(
      '/v1/payment_methods',
      card('4242424242424242', { exp_month: thisMonth - 1, exp_year: thisYear }),
    );
    expect(response.body.error).toMatchObject({ code: 'invalid_expiry_month', param: 'card[exp_month]' });
  });

  it('keeps the Idempotency-Key free after a refused card, so the corrected request goes through', async () => {
    const headers = { 'idempotency-key': `pm-retry-${Date.now()}` };
    const refused = await t.merchant.post('/v1/payment_methods', card('4242424242424241'), { headers });
    expect(refused.status).toBe(400);
    const accepted = await t.merchant.post('/v1/payment_methods', card('4242424242424242'), { headers });
    expect(accepted.status, accepted.text).toBe(200);
  });
});

describe('test payment method ids', () => {
  it.each([
    ['pm_card_visa', 'visa', '4242'],
    ['pm_card_mastercard', 'mastercard', '4444'],
    ['pm_card_chargeDeclined', 'visa', '0002'],
    ['pm_card_chargeDeclinedInsufficientFunds', 'visa', '9995'],
    ['pm_card_authenticationRequired', 'visa', '3155'],
    ['pm_card_createDispute', 'visa', '0259'],
  ])('GET %s reads as a %s card ending %s', async (id, brand, last4) => {
    const response = await t.merchant.get<PaymentMethod>(`/v1/payment_methods/${id}`);
    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({ id, object: 'payment_method', livemode: false, customer: null });
    expect(response.body.card).toMatchObject({ brand, last4 });
  });

  it('resolves stored and test payment methods for payments, with the card number only on request', async () => {
    const scope = { merchantId: t.merchantId, livemode: false };
    const stored = await t.merchant.post<PaymentMethod>(
      '/v1/payment_methods',
      card('5555555555554444', { cvc: '987' }),
    );
    const resolved = await t.service.services.paymentMethods.resolvePaymentMethod(scope, stored.body.id);
    expect(resolved?.card).toMatchObject({ brand: 'mastercard', last4: '4444', exp_month: 12 });
    expect(JSON.stringify(resolved)).not.toContain('5555555555554444');
    const revealed = await resolved?.revealCard('test');
    expect(revealed?.number.reveal()).toBe('5555555555554444');
    expect(revealed?.cvc?.reveal()).toBe('987');
    expect(String(revealed?.number)).toBe('[REDACTED]');
    const test = await t.service.services.paymentMethods.resolvePaymentMethod(
      scope,
      'pm_card_chargeDeclined',
    );
    expect(test?.testId).toBe(true);
    expect((await test?.revealCard('test'))?.number.reveal()).toBe('4000000000000002');
    expect(await t.service.services.paymentMethods.resolvePaymentMethod(scope, 'pm_nope')).toBeNull();
  });
});

describe('update, attach, detach and list', () => {
  it('updates billing details, metadata and expiry, and records payment_method.updated', async () => {
    const pm = await t.merchant.post<PaymentMethod>('/v1/payment_methods', {
      ...card('4242424242424242'),
      metadata: { a: '1' },
    });
    const updated = await t.merchant.post<PaymentMethod>(`/v1/payment_methods/${pm.body.id}`, {
      billing_details: { name: 'New Name' },
      metadata: { b: '2' },
      card: { exp_month: 3 },
    });
    expect(updated.status, updated.text).toBe(200);
    expect(updated.body.metadata).toEqual({ a: '1', b: '2' });
    expect(updated.body.card.exp_month).toBe(3);
    expect((updated.body.billing_details as { name: string }).name).toBe('New Name');
    const badExpiry = await t.merchant.post<ErrorBody>(`/v1/payment_methods/${pm.body.id}`, {
      card: { exp_year: 2001 },
    });
    expect(badExpiry.body.error).toMatchObject({ code: 'invalid_expiry_year', param: 'card[exp_year]' });
    const events = await t.merchant.get<{
      data: { data: { object: { id: string }; previous_attributes: object } }[];
    }>('/v1/events', { type: 'payment_method.updated' });
    const event = events.body.data.find((e) => e.data.object.id === pm.body.id);
    expect(event?.data.previous_attributes).toMatchObject({ metadata: { a: '1' } });
  });

  it('attaches to a customer, lists by customer, expands the customer, and detaches', async () => {
    const customer = await t.merchant.post<{ id: string }>('/v1/customers', { email: 'pm@example.com' });
    const first = await t.merchant.post<PaymentMethod>('/v1/payment_methods', card('4242424242424242'));
    const second = await t.merchant.post<PaymentMethod>('/v1/payment_methods', card('5555555555554444'));
    for (const pm of [first, second]) {
      const attached = await t.merchant.post<PaymentMethod>(`/v1/payment_methods/${pm.body.id}/attach`, {
        customer: customer.body.id,
      });
      expect(attached.status, attached.text).toBe(200);
      expect(attached.body.customer).toBe(customer.body.id);
    }
    const listed = await t.merchant.get<{ object: string; data: PaymentMethod[]; has_more: boolean }>(
      '/v1/payment_methods',
      { customer: customer.body.id, type: 'card' },
    );
    expect(listed.body.object).toBe('list');
    expect(listed.body.data.map((p) => p.id)).toEqual([second.body.id, first.body.id]);
    const paged = await t.merchant.get<{ data: PaymentMethod[]; has_more: boolean }>('/v1/payment_methods', {
      customer: customer.body.id,
      limit: 1,
    });
    expect(paged.body.has_more).toBe(true);

    const expanded = await t.merchant.get<{ customer: { id: string; email: string } }>(
      `/v1/payment_methods/${first.body.id}`,
      { expand: ['customer'] },
    );
    expect(expanded.body.customer).toMatchObject({ id: customer.body.id, email: 'pm@example.com' });

    const detached = await t.merchant.post<PaymentMethod>(`/v1/payment_methods/${first.body.id}/detach`);
    expect(detached.status).toBe(200);
    expect(detached.body.customer).toBeNull();
    const after = await t.merchant.get<{ data: PaymentMethod[] }>('/v1/payment_methods', {
      customer: customer.body.id,
    });
    expect(after.body.data.map((p) => p.id)).toEqual([second.body.id]);
    const reattach = await t.merchant.post<ErrorBody>(`/v1/payment_methods/${first.body.id}/attach`, {
      customer: customer.body.id,
    });
    expect(reattach.status).toBe(400);
    expect(reattach.body.error.code).toBe('payment_method_unexpected_state');

    const events = await t.merchant.get<{ data: { type: string; data: { object: { id: string } } }[] }>(
      '/v1/events',
      {
        types: ['payment_method.attached', 'payment_method.detached'],
      },
    );
    const mine = events.body.data.filter((e) => e.data.object.id === first.body.id).map((e) => e.type);
    expect(mine).toEqual(['payment_method.detached', 'payment_method.attached']);
  });

  it('attaching a test id stores a copy attached to the customer', async () => {
    const customer = await t.merchant.post<{ id: string }>('/v1/customers', {});
    const attached = await t.merchant.post<PaymentMethod>('/v1/payment_methods/pm_card_visa/attach', {
      customer: customer.body.id,
    });
    expect(attached.status, attached.text).toBe(200);
    expect(attached.body.id).not.toBe('pm_card_visa');
    expect(attached.body).toMatchObject({ customer: customer.body.id, card: { last4: '4242' } });
  });

  it('requires the customer when listing and an existing customer when attaching', async () => {
    const noCustomer = await t.merchant.get<ErrorBody>('/v1/payment_methods');
    expect(noCustomer.status).toBe(400);
    expect(noCustomer.body.error).toMatchObject({ code: 'parameter_missing', param: 'customer' });
    const pm = await t.merchant.post<PaymentMethod>('/v1/payment_methods', card('4242424242424242'));
    const attach = await t.merchant.post<ErrorBody>(`/v1/payment_methods/${pm.body.id}/attach`, {
      customer: 'cus_doesnotexist',
    });
    expect(attach.status).toBe(404);
    expect(attach.body.error).toMatchObject({ code: 'resource_missing', param: 'customer' });
    const detach = await t.merchant.post<ErrorBody>(`/v1/payment_methods/${pm.body.id}/detach`);
    expect(detach.status).toBe(400);
  });
});

describe('tenancy and modes', () => {
  it("answers 404 for another merchant's payment method and customer", async () => {
    const pm = await t.merchant.post<PaymentMethod>('/v1/payment_methods', card('4242424242424242'));
    const other = await createMerchant(t, 'Tenancy merchant');
    expect((await other.api.get(`/v1/payment_methods/${pm.body.id}`)).status).toBe(404);
    expect((await other.api.post(`/v1/payment_methods/${pm.body.id}`, { metadata: { x: '1' } })).status).toBe(
      404,
    );
    expect((await other.api.post(`/v1/payment_methods/${pm.body.id}/detach`)).status).toBe(404);
    const theirCustomer = await other.api.post<{ id: string }>('/v1/customers', {});
    const attach = await t.merchant.post(`/v1/payment_methods/${pm.body.id}/attach`, {
      customer: theirCustomer.body.id,
    });
    expect(attach.status).toBe(404);
    const list = await t.merchant.get('/v1/payment_methods', { customer: theirCustomer.body.id });
    expect(list.status).toBe(404);
  });

  it('keeps live and test apart, refuses sandbox cards and test ids in live mode', async () => {
    const liveKey = await t.admin.post<{ secret: string }>('/admin/keys', {
      merchant: t.merchantId,
      kind: 'secret',
      livemode: true,
    });
    expect(liveKey.status, liveKey.text).toBe(200);
    const live = t.api.withKey(liveKey.body.secret);
    const testPm = await t.merchant.post<PaymentMethod>('/v1/payment_methods', card('4242424242424242'));
    expect((await live.get(`/v1/payment_methods/${testPm.body.id}`)).status).toBe(404);
    expect((await live.get('/v1/payment_methods/pm_card_visa')).status).toBe(404);

    for (const number of ['4242424242424242', '4000000000000119', '4000000000000002', '5555555555554444']) {
      const before = await storedCounts();
      const refused = await live.post<ErrorBody>('/v1/payment_methods', card(number));
      expect(refused.status, number).toBe(400);
      expect(refused.body.error).toMatchObject({ code: 'live_mode_test_card', param: 'card[number]' });
      expect(await storedCounts()).toEqual(before);
    }
    // A card that is not on Stripe's test list is accepted in live mode and stays there.
    const real = await live.post<PaymentMethod>('/v1/payment_methods', card('4111111111111111'));
    expect(real.status, real.text).toBe(200);
    expect(real.body).toMatchObject({ livemode: true, card: { funding: 'unknown', country: null } });
    expect((await t.merchant.get(`/v1/payment_methods/${real.body.id}`)).status).toBe(404);
  });
});
