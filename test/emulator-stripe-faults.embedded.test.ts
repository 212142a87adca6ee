// The Stripe emulator's idempotency and fault injection, seen from the official SDK and raw HTTP.
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type EmulatorHarness, startHarness } from './emulator-support.js';

let h: EmulatorHarness;
beforeAll(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.control.delete('/_emulator/faults');
});
afterAll(async () => {
  await h.emulator.close();
});

const confirmParams = {
  amount: 1500,
  currency: 'usd',
  payment_method: 'pm_card_visa',
  confirm: true,
} as const;

async function chargesOf(account: string) {
  const state = await h.state('charges');
  return state.charges.filter((charge) => charge.account === account);
}

async function accountOf(stripe: Stripe): Promise<string> {
  const pi = await stripe.paymentIntents.create({ amount: 100, currency: 'usd' });
  const state = await h.state('payment_intents');
  return state.payment_intents.find((p) => p.id === pi.id)!.account;
}

describe('idempotency', () => {
  it('replays the first answer for the same key and parameters', async () => {
    const first = await h.api.post('/v1/payment_intents', confirmParams, {
      headers: { 'idempotency-key': 'replay-1' },
    });
    const second = await h.api.post('/v1/payment_intents', confirmParams, {
      headers: { 'idempotency-key': 'replay-1' },
    });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(second.text).toBe(first.text);
    const viaSdk = await h.stripe.paymentIntents.create(confirmParams, { idempotencyKey: 'replay-1' });
    expect(viaSdk.id).toBe((first.body as { id: string }).id);
  });

  it('refuses the same key with other parameters with idempotency_error', async () => {
    await h.stripe.paymentIntents.create({ amount: 100, currency: 'usd' }, { idempotencyKey: 'mismatch-1' });
    const error = await h.stripe.paymentIntents
      .create({ amount: 101, currency: 'usd' }, { idempotencyKey: 'mismatch-1' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect((error as Stripe.errors.StripeError).message).toContain(
      'Keys for idempotent requests can only be used with the same parameters they were first used with',
    );
  });

  it('does not save validation errors, so a corrected request can use the key', async () => {
    const bad = await h.api.post(
      '/v1/payment_intents',
      { amount: 'ten', currency: 'usd' },
      { headers: { 'idempotency-key': 'fixable' } },
    );
    expect(bad.status).toBe(400);
    const fixed = await h.api.post(
      '/v1/payment_intents',
      { amount: 1000, currency: 'usd' },
      { headers: { 'idempotency-key': 'fixable' } },
    );
    expect(fixed.status).toBe(200);
  });

  it('executes exactly one of 50 concurrent requests with one key (the rest replay or get 409)', async () => {
    const key = 'sk_test_concurrent_one_key';
    const account = await accountOf(h.sdk(key));
    // Latency holds the first request in flight while the others arrive.
    await h.control.post('/_emulator/faults', { latency_ms: 100 }, { as: 'json' });
    const replies = await Promise.all(
      Array.from({ length: 50 }, () =>
        h.api.post('/v1/payment_intents', confirmParams, { key, headers: { 'idempotency-key': 'fifty' } }),
      ),
    );
    const ok = replies.filter((r) => r.status === 200);
    const inFlight = replies.filter((r) => r.status === 409);
    expect(ok.length + inFlight.length).toBe(50);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(new Set(ok.map((r) => (r.body as { id: string }).id)).size).toBe(1);
    for (const reply of inFlight)
      expect(reply.body).toMatchObject({ error: { code: 'idempotency_key_in_use' } });
    expect(await chargesOf(account)).toHaveLength(1);
  });

  it('forgets keys once the clock passes 24 hours', async () => {
    const first = await h.stripe.paymentIntents.create(
      { amount: 100, currency: 'usd' },
      { idempotencyKey: 'day-old' },
    );
    await h.control.post('/_emulator/clock', { advance_seconds: 23 * 3600 }, { as: 'json' });
    const replay = await h.stripe.paymentIntents.create(
      { amount: 100, currency: 'usd' },
      { idempotencyKey: 'day-old' },
    );
    expect(replay.id).toBe(first.id);
    await h.control.post('/_emulator/clock', { advance_seconds: 3600 }, { as: 'json' });
    const fresh = await h.stripe.paymentIntents.create(
      { amount: 200, currency: 'usd' },
      { idempotencyKey: 'day-old' },
    );
    expect(fresh.id).not.toBe(first.id);
  });
});

describe('faults', () => {
  it('refuse closes the connection before anything happens; the control API stays up', async () => {
    const account = await accountOf(h.sdk('sk_test_refuse'));
    await h.control.post('/_emulator/faults', { mode: 'refuse' }, { as: 'json' });
    const error = await h
      .sdk('sk_test_refuse')
      .paymentIntents.create(confirmParams)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect((await h.control.get('/_emulator/faults')).body).toMatchObject({ mode: 'refuse' });
    expect(await chargesOf(account)).toHaveLength(0);
  });

  it('hang never answers', async () => {
    await h.control.post('/_emulator/faults', { mode: 'hang' }, { as: 'json' });
    const started = Date.now();
    const error = await h
      .sdk(undefined, { timeout: 300 })
      .paymentIntents.list()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('drop_after_charge charges, then cuts the connection; a later replay shows the outcome', async () => {
    const stripe = h.sdk('sk_test_drop');
    const account = await accountOf(stripe);
    await h.control.post('/_emulator/faults', { mode: 'drop_after_charge' }, { as: 'json' });
    const error = await stripe.paymentIntents
      .create(confirmParams, { idempotencyKey: 'drop-1' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    const charges = await chargesOf(account);
    expect(charges).toHaveLength(1);
    expect(charges[0]).toMatchObject({ status: 'succeeded', captured: true });
    // Requests that charge nothing are answered normally, so the outcome can be read back.
    const found = await stripe.charges.retrieve(charges[0]!.id);
    expect(found.status).toBe('succeeded');
    await h.control.delete('/_emulator/faults');
    const replay = await stripe.paymentIntents.create(confirmParams, { idempotencyKey: 'drop-1' });
    expect(replay).toMatchObject({ status: 'succeeded', latest_charge: charges[0]!.id });
    expect(await chargesOf(account)).toHaveLength(1);
  });

  it('error_after_charge charges, then answers 500', async () => {
    const stripe = h.sdk('sk_test_error_after');
    const account = await accountOf(stripe);
    await h.control.post('/_emulator/faults', { mode: 'error_after_charge' }, { as: 'json' });
    const error = await stripe.paymentIntents.create(confirmParams).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect((error as Stripe.errors.StripeError).statusCode).toBe(500);
    const charges = await chargesOf(account);
    expect(charges).toHaveLength(1);
    expect(charges[0]).toMatchObject({ status: 'succeeded' });
  });

  it('latency_ms delays every API answer but not the control API', async () => {
    await h.control.post('/_emulator/faults', { latency_ms: 250 }, { as: 'json' });
    let started = Date.now();
    await h.stripe.paymentIntents.list({ limit: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(245);
    started = Date.now();
    await h.control.get('/_emulator/faults');
    expect(Date.now() - started).toBeLessThan(200);
  });

  it('error_rate answers that fraction of requests with the given status before doing anything', async () => {
    await h.control.post('/_emulator/faults', { error_rate: 1, status: 503 }, { as: 'json' });
    const all = await h.api.post('/v1/payment_intents', { amount: 100, currency: 'usd' });
    expect(all.status).toBe(503);
    expect(all.body).toMatchObject({ error: { type: 'api_error' } });
    const limited = await h.control.post('/_emulator/faults', { error_rate: 1, status: 429 }, { as: 'json' });
    expect(limited.status).toBe(200);
    expect(await h.stripe.paymentIntents.list().catch((e: unknown) => e)).toBeInstanceOf(
      Stripe.errors.StripeRateLimitError,
    );

    await h.control.post('/_emulator/faults', { error_rate: 0.5 }, { as: 'json' });
    const replies = await Promise.all(
      Array.from({ length: 200 }, () => h.api.get('/v1/payment_intents', { limit: 1 })),
    );
    const failed = replies.filter((r) => r.status === 500).length;
    expect(failed + replies.filter((r) => r.status === 200).length).toBe(200);
    expect(failed).toBeGreaterThan(50);
    expect(failed).toBeLessThan(150);
  });

  it('validates fault settings', async () => {
    const bad = await h.control.post('/_emulator/faults', { mode: 'explode' }, { as: 'json' });
    expect(bad.status).toBe(400);
  });
});
