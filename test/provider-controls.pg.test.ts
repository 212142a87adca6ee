// Operator controls reach every replica (PostgreSQL only: two services on one database): a circuit
// forced on one replica, a switch flipped and a routing rule created there are obeyed by the other
// within 5 s, without restarting it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './support/service.js';
import { waitFor } from './support/wait.js';

type Json = Record<string, unknown>;

let a: TestService;
let b: TestService;
beforeAll(async () => {
  a = await startTestService();
  b = await startTestService({ databaseUrl: a.database?.url as string });
});
afterAll(async () => {
  await b?.service.close();
  await a?.close();
});

const stripeOn = async (t: TestService) =>
  (await t.admin.get<{ data: Json[] }>('/admin/providers')).body.data.find((p) => p.provider === 'stripe');

describe('controls across replicas (PostgreSQL)', () => {
  it('a circuit forced open on one replica is obeyed by another within 5 s, and back to auto', async () => {
    // Replica b has read the controls once already, so it is a cache that must expire, not a first read.
    expect(await stripeOn(b)).toMatchObject({ state: 'closed', forced: null });
    const started = performance.now();
    expect((await a.admin.post('/admin/providers/stripe/circuit', { state: 'open' })).status).toBe(200);
    await waitFor(
      'replica b to see stripe forced open',
      async () => (await stripeOn(b))?.forced === 'open',
      5_000,
    );
    expect(performance.now() - started).toBeLessThan(5_000);
    const outcome = (await b.service.gateway.provider('stripe')?.createPayment({
      attemptId: 'att_pg_replica',
      livemode: false,
      merchantId: b.merchantId,
      paymentIntentId: 'pi_pg_replica',
      amount: 1000,
      currency: 'usd',
      captureMethod: 'automatic',
    })) as Json;
    expect(outcome).toMatchObject({ status: 'no_charge', reason: 'circuit_open' });
    const metrics = (await b.api.get('/metrics')).text;
    expect(metrics).toMatch(/^payment_provider_circuit_state\{gateway="stripe"\} 1$/m);

    await a.admin.post('/admin/providers/stripe/circuit', { state: 'auto' });
    await waitFor(
      'replica b to see stripe automatic again',
      async () => (await stripeOn(b))?.forced === null,
      5_000,
    );
    expect((await b.api.get('/metrics')).text).toMatch(
      /^payment_provider_circuit_state\{gateway="stripe"\} 0$/m,
    );
  });

  it('a switch flipped on one replica is obeyed by another within 5 s', async () => {
    expect(await b.service.gateway.fallbackEnabled()).toBe(true);
    await a.admin.post('/admin/switches/fallback_provider_enabled', { enabled: false });
    await waitFor(
      'replica b to see fallback off',
      async () => !(await b.service.gateway.fallbackEnabled()),
      5_000,
    );
    const listed = await b.admin.get<{ data: Json[] }>('/admin/switches');
    expect(listed.body.data.find((s) => s.name === 'fallback_provider_enabled')).toMatchObject({
      enabled: false,
      source: 'operator',
    });
  });

  it('a routing rule created on one replica routes payments on another within 5 s', async () => {
    const query = {
      merchantId: b.merchantId,
      livemode: false,
      paymentMethodType: 'card' as const,
      currency: 'usd',
      amount: 1000,
    };
    expect(await b.service.gateway.decide(query)).toMatchObject({ ruleId: null });
    const rule = await a.admin.post<Json>(
      '/admin/routing/rules',
      { merchant_id: b.merchantId, payment_method_type: 'card', providers: ['stripe'] },
      { as: 'json' },
    );
    expect(rule.status).toBe(200);
    await waitFor(
      'replica b to route by the new rule',
      async () => (await b.service.gateway.decide(query)).ruleId === rule.body.id,
      5_000,
    );
  });
});
