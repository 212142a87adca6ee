// PayPal payment methods: created directly (type=paypal) or with a payment intent
// (payment_method_data[type]=paypal); no card, nothing in the vault, Stripe's paypal hash; refused
// mixes name their parameter and store nothing.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './support/service.js';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t.close();
});

type PaymentMethod = Record<string, unknown> & { id: string; type: string; paypal?: Record<string, unknown> };
type Intent = { id: string; status: string; payment_method: string | null; payment_method_types: string[] };
type ErrorBody = { error: { code: string; param?: string } };

async function count(table: 'payment_methods' | 'vault_cards' | 'payment_intents'): Promise<number> {
  const db = t.service.database.db;
  const rows = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(db);
  return Number(rows.rows[0]?.n);
}

describe('PayPal payment methods', () => {
  it('creates one with type=paypal: a paypal hash, no card, nothing in the vault', async () => {
    const cards = await count('vault_cards');
    const created = await t.merchant.post<PaymentMethod>('/v1/payment_methods', {
      type: 'paypal',
      billing_details: { email: 'payer@example.com' },
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      object: 'payment_method',
      type: 'paypal',
      paypal: { payer_email: null, payer_id: null, country: null },
      billing_details: { email: 'payer@example.com' },
    });
    expect(created.body).not.toHaveProperty('card');
    expect(await count('vault_cards')).toBe(cards);
    const read = await t.merchant.get<PaymentMethod>(`/v1/payment_methods/${created.body.id}`);
    expect(read.body).toEqual(created.body);
  });

  it('refuses card details on a paypal payment method, naming card, and stores nothing', async () => {
    const before = await count('payment_methods');
    const refused = await t.merchant.post<ErrorBody>('/v1/payment_methods', {
      type: 'paypal',
      card: { number: '4242424242424242', exp_month: 12, exp_year: 2040 },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.param).toBe('card');
    expect(await count('payment_methods')).toBe(before);
  });

  it('refuses a card expiry update on a paypal payment method', async () => {
    const created = await t.merchant.post<PaymentMethod>('/v1/payment_methods', { type: 'paypal' });
    const refused = await t.merchant.post<ErrorBody>(`/v1/payment_methods/${created.body.id}`, {
      card: { exp_month: 1 },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.param).toBe('card');
  });

  it('makes one for a payment intent with payment_method_data[type]=paypal', async () => {
    const created = await t.merchant.post<Intent>('/v1/payment_intents', {
      amount: 1500,
      currency: 'eur',
      payment_method_types: ['paypal'],
      payment_method_data: { type: 'paypal' },
    });
    expect(created.status).toBe(200);
    expect(created.body.status).toBe('requires_confirmation');
    expect(created.body.payment_method_types).toEqual(['paypal']);
    const method = await t.merchant.get<PaymentMethod>(
      `/v1/payment_methods/${created.body.payment_method as string}`,
    );
    expect(method.body.type).toBe('paypal');
  });

  it('refuses payment_method with payment_method_data, and a card type in it, storing nothing', async () => {
    const methods = await count('payment_methods');
    const intents = await count('payment_intents');
    const both = await t.merchant.post<ErrorBody>('/v1/payment_intents', {
      amount: 1500,
      currency: 'eur',
      payment_method: 'pm_card_visa',
      payment_method_data: { type: 'paypal' },
    });
    expect(both.status).toBe(400);
    expect(both.body.error.param).toBe('payment_method_data');
    const cardType = await t.merchant.post<ErrorBody>('/v1/payment_intents', {
      amount: 1500,
      currency: 'eur',
      payment_method_data: { type: 'card' },
    });
    expect(cardType.status).toBe(400);
    expect(cardType.body.error.param).toBe('payment_method_data[type]');
    const badAmount = await t.merchant.post<ErrorBody>('/v1/payment_intents', {
      amount: -5,
      currency: 'eur',
      payment_method_data: { type: 'paypal' },
    });
    expect(badAmount.status).toBe(400);
    expect(await count('payment_methods')).toBe(methods);
    expect(await count('payment_intents')).toBe(intents);
  });

  it('refuses confirming a card payment method on an intent that takes only paypal', async () => {
    const intent = await t.merchant.post<Intent>('/v1/payment_intents', {
      amount: 1500,
      currency: 'eur',
      payment_method_types: ['paypal'],
    });
    const refused = await t.merchant.post<ErrorBody>(`/v1/payment_intents/${intent.body.id}/confirm`, {
      payment_method: 'pm_card_visa',
      return_url: 'https://shop.example/back',
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.param).toBe('payment_method');
  });

  it('requires return_url to confirm with PayPal', async () => {
    const intent = await t.merchant.post<Intent>('/v1/payment_intents', {
      amount: 1500,
      currency: 'eur',
      payment_method_types: ['paypal'],
      payment_method_data: { type: 'paypal' },
    });
    const refused = await t.merchant.post<ErrorBody>(`/v1/payment_intents/${intent.body.id}/confirm`, {});
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'parameter_missing', param: 'return_url' });
    const after = await t.merchant.get<Intent>(`/v1/payment_intents/${intent.body.id}`);
    expect(after.body.status).toBe('requires_confirmation');
  });
});
