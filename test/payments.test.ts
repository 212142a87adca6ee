// Payment intents over HTTP against the embedded Stripe emulator: create and confirm, declines as 402,
// manual capture, 3DS through our return hop, cancel, charges and the ledger postings they make.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './support/service.js';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t.close();
});

type Intent = Record<string, unknown> & {
  id: string;
  status: string;
  amount_received: number;
  amount_capturable: number;
  latest_charge: string | null | Record<string, unknown>;
  client_secret: string;
  next_action: { type: string; redirect_to_url: { url: string; return_url: string | null } } | null;
  last_payment_error: Record<string, unknown> | null;
};
type ErrorBody = { error: Record<string, unknown> & { type: string; code: string; param?: string } };

describe('card payments', () => {
  it('creates and confirms in one call: succeeded, one charge, posted to the ledger', async () => {
    const created = await t.merchant.post<Intent>('/v1/payment_intents', {
      amount: 2000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: 'true',
      metadata: { order: 'A-1' },
    });
    expect(created.status, created.text).toBe(200);
    expect(created.body).toMatchObject({ status: 'succeeded', amount_received: 2000, amount_capturable: 0 });
    const charge = await t.merchant.get<Record<string, unknown>>(
      `/v1/charges/${created.body.latest_charge}`,
      {
        expand: ['balance_transaction'],
      },
    );
    expect(charge.status, charge.text).toBe(200);
    expect(charge.body).toMatchObject({
      amount: 2000,
      amount_captured: 2000,
      captured: true,
      paid: true,
      status: 'succeeded',
      payment_intent: created.body.id,
      payment_method_details: { card: { brand: 'visa', last4: '4242' } },
    });
    expect(charge.body.balance_transaction).toMatchObject({
      object: 'balance_transaction',
      amount: 2000,
      type: 'charge',
    });
    // The provider's fee comes back with the confirmation (Stripe's 2.9% + 30 in the emulator) and is posted.
    const bt = charge.body.balance_transaction as { fee: number; net: number };
    expect(bt.fee).toBeGreaterThan(0);
    expect(bt.net).toBe(2000 - bt.fee);
  });

  it('answers a decline with 402 card_error naming the decline code', async () => {
    const created = await t.merchant.post<ErrorBody>('/v1/payment_intents', {
      amount: 2000,
      currency: 'usd',
      payment_method: 'pm_card_chargeDeclinedInsufficientFunds',
      confirm: 'true',
    });
    expect(created.status, created.text).toBe(402);
    expect(created.body.error).toMatchObject({
      type: 'card_error',
      code: 'card_declined',
      decline_code: 'insufficient_funds',
      payment_intent: { status: 'requires_payment_method' },
    });
    expect(created.body.error.charge).toMatch(/^ch_/);
  });

  it('authorizes with manual capture and captures part of it', async () => {
    const created = await t.merchant.post<Intent>('/v1/payment_intents', {
      amount: 5000,
      currency: 'eur',
      payment_method: 'pm_card_mastercard',
      capture_method: 'manual',
      confirm: 'true',
    });
    expect(created.status, created.text).toBe(200);
    expect(created.body).toMatchObject({ status: 'requires_capture', amount_capturable: 5000 });
    const over = await t.merchant.post<ErrorBody>(`/v1/payment_intents/${created.body.id}/capture`, {
      amount_to_capture: 6000,
    });
    expect(over.status).toBe(400);
    expect(over.body.error.param).toBe('amount_to_capture');
    const captured = await t.merchant.post<Intent>(`/v1/payment_intents/${created.body.id}/capture`, {
      amount_to_capture: 3000,
    });
    expect(captured.status, captured.text).toBe(200);
    expect(captured.body).toMatchObject({ status: 'succeeded', amount_received: 3000, amount_capturable: 0 });
    const again = await t.merchant.post<ErrorBody>(`/v1/payment_intents/${created.body.id}/capture`, {});
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe('payment_intent_unexpected_state');
  });

  it('sends the shopper through 3DS and our return hop to the merchant return_url', async () => {
    const created = await t.merchant.post<Intent>('/v1/payment_intents', {
      amount: 1500,
      currency: 'usd',
      payment_method: 'pm_card_authenticationRequired',
      confirm: 'true',
      return_url: 'https://shop.example/return?order=9',
    });
    expect(created.status, created.text).toBe(200);
    expect(created.body.status).toBe('requires_action');
    const redirect = created.body.next_action?.redirect_to_url;
    expect(redirect?.return_url).toBe('https://shop.example/return?order=9');
    const page = await fetch(`${redirect?.url}${redirect?.url.includes('?') ? '&' : '?'}action=approve`, {
      redirect: 'manual',
    });
    expect(page.status).toBe(302);
    const hop = page.headers.get('location') as string;
    expect(hop.startsWith(`${t.url}/return/stripe/`)).toBe(true);
    const back = await fetch(hop, { redirect: 'manual' });
    expect(back.status).toBe(302);
    const merchantUrl = new URL(back.headers.get('location') as string);
    expect(merchantUrl.origin + merchantUrl.pathname).toBe('https://shop.example/return');
    expect(merchantUrl.searchParams.get('order')).toBe('9');
    expect(merchantUrl.searchParams.get('payment_intent')).toBe(created.body.id);
    expect(merchantUrl.searchParams.get('payment_intent_client_secret')).toBe(created.body.client_secret);
    expect(merchantUrl.searchParams.get('redirect_status')).toBe('succeeded');
    const after = await t.merchant.get<Intent>(`/v1/payment_intents/${created.body.id}`);
    expect(after.body).toMatchObject({ status: 'succeeded', amount_received: 1500 });
  });

  it('cancels an authorization at the provider', async () => {
    const created = await t.merchant.post<Intent>('/v1/payment_intents', {
      amount: 700,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      capture_method: 'manual',
      confirm: 'true',
    });
    expect(created.body.status).toBe('requires_capture');
    const canceled = await t.merchant.post<Intent>(`/v1/payment_intents/${created.body.id}/cancel`, {
      cancellation_reason: 'requested_by_customer',
    });
    expect(canceled.status, canceled.text).toBe(200);
    expect(canceled.body).toMatchObject({ status: 'canceled', cancellation_reason: 'requested_by_customer' });
  });
});

describe('payment metrics', () => {
  const value = (text: string, name: string) => {
    const line = text.split('\n').find((l) => l.startsWith(name));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  it('counts attempts, successes and declines apart, with the gateway label', async () => {
    const before = (await t.api.get('/metrics')).text;
    await t.merchant.post('/v1/payment_intents', {
      amount: 900,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: 'true',
    });
    await t.merchant.post('/v1/payment_intents', {
      amount: 900,
      currency: 'usd',
      payment_method: 'pm_card_chargeDeclined',
      confirm: 'true',
    });
    const after = (await t.api.get('/metrics')).text;
    const delta = (name: string) => value(after, name) - value(before, name);
    expect(delta('payment_attempts_total{gateway="stripe"}')).toBe(2);
    expect(delta('payment_success_total{gateway="stripe"}')).toBe(1);
    expect(delta('payment_processing_total{gateway="stripe",status="succeeded"}')).toBe(1);
    expect(delta('payment_processing_total{gateway="stripe",status="declined"}')).toBe(1);
    expect(delta('payment_declines_total{gateway="stripe",decline_code="generic_decline"}')).toBe(1);
    expect(delta('payment_processing_duration_seconds_count{gateway="stripe"}')).toBe(2);
    expect(after).toContain('payment_processing_duration_seconds_bucket{le="0.1",gateway="stripe"}');
    expect(after).toContain('# TYPE payment_gateway_errors_total counter');
  });
});
