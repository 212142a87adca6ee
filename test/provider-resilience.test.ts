// Provider resilience in the running service: the Stripe circuit opens when the embedded emulator fails,
// shows in /metrics, /health/detailed and /admin/providers, half-opens and closes; operators force it
// and flip the run-time switches (audited); routing rules through the admin API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatePaymentRequest } from '../src/providers/provider.js';
import { Api } from './support/http.js';
import { metricValue as sample } from './support/jobs.js';
import { startTestService, type TestService } from './support/service.js';

type Json = Record<string, unknown>;

let t: TestService;
let emulator: Api;
beforeAll(async () => {
  t = await startTestService({
    env: {
      CIRCUIT_BREAKER_MIN_CALLS: '3',
      CIRCUIT_BREAKER_WINDOW_MS: '10000',
      CIRCUIT_BREAKER_HALF_OPEN_AFTER_MS: '300',
      FALLBACK_PROVIDER_ENABLED: 'false',
    },
  });
  emulator = new Api(t.service.providers.emulators.stripe?.url as string);
});
afterAll(async () => {
  await emulator?.delete('/_emulator/faults');
  await t?.close();
});

let seq = 0;
const request = (): CreatePaymentRequest => ({
  attemptId: `att_resilience_${++seq}_${Date.now()}`,
  livemode: false,
  merchantId: t.merchantId,
  paymentIntentId: `pi_resilience_${seq}`,
  amount: 1000,
  currency: 'usd',
  captureMethod: 'automatic',
});
const stripe = () => {
  const provider = t.service.gateway.provider('stripe');
  if (!provider) throw new Error('stripe is not configured');
  return provider;
};

const metrics = async () => (await t.api.get('/metrics')).text;
const emulatorIntents = async () =>
  ((await emulator.get<{ payment_intents?: unknown[] }>('/_emulator/state')).body.payment_intents ?? [])
    .length;

describe('the Stripe circuit in the running service', () => {
  it('opens when Stripe fails, refuses without calling, shows in metrics and health, then recovers', async () => {
    expect(sample(await metrics(), 'payment_provider_circuit_state', { gateway: 'stripe' })).toBe(0);
    expect((await stripe().createPayment(request())) as Json).toHaveProperty('providerPaymentId');

    expect(
      (await emulator.post('/_emulator/faults', { error_rate: 1, status: 500 }, { as: 'json' })).status,
    ).toBe(200);
    // One success and two failures: 2 of 3 calls failed, above the ratio of 0.5 with the minimum of 3.
    for (let i = 0; i < 2; i++)
      expect(((await stripe().createPayment(request())) as Json).status).toBe('unknown');
    const reached = sample(await metrics(), 'payment_provider_call_duration_seconds_count', {
      gateway: 'stripe',
      operation: 'createPayment',
    });

    const refused = (await stripe().createPayment(request())) as Json;
    expect(refused).toMatchObject({ status: 'no_charge', reason: 'circuit_open' });
    const text = await metrics();
    expect(sample(text, 'payment_provider_circuit_state', { gateway: 'stripe' })).toBe(1);
    expect(
      sample(text, 'payment_provider_circuit_transitions_total', { gateway: 'stripe', to: 'open' }),
    ).toBe(1);
    expect(
      sample(text, 'payment_provider_calls_total', {
        gateway: 'stripe',
        operation: 'createPayment',
        outcome: 'circuit_open',
      }),
    ).toBe(1);
    // The refused call never reached Stripe.
    expect(
      sample(text, 'payment_provider_call_duration_seconds_count', {
        gateway: 'stripe',
        operation: 'createPayment',
      }),
    ).toBe(reached);

    const health = await t.api.get<Json>('/health/detailed');
    expect(health.body.status).toBe('degraded');
    const circuits = (health.body.checks as Record<string, Json>).provider_circuits;
    expect(circuits).toMatchObject({
      status: 'degraded',
      critical: false,
      detail: { stripe: { state: 'open' } },
    });
    expect((await t.api.get<Json>('/health/payment')).body.status).toBe('degraded');

    const providers = await t.admin.get<{ data: Json[] }>('/admin/providers');
    expect(providers.status).toBe(200);
    expect(providers.body.data.find((p) => p.provider === 'stripe')).toMatchObject({
      configured: true,
      state: 'open',
      forced: null,
      in_flight: 0,
      queue_depth: 0,
      last_transition: { to: 'open' },
    });
    expect(providers.body.data.find((p) => p.provider === 'paypal')).toMatchObject({
      configured: true,
      state: 'closed',
    });
    // The built-in wallet provider is always configured; its circuit stays closed.
    expect(providers.body.data.find((p) => p.provider === 'wallet')).toMatchObject({
      configured: true,
      state: 'closed',
    });

    await emulator.delete('/_emulator/faults');
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect((await stripe().createPayment(request())) as Json).toHaveProperty('providerPaymentId');
    const after = await metrics();
    expect(sample(after, 'payment_provider_circuit_state', { gateway: 'stripe' })).toBe(0);
    expect(
      sample(after, 'payment_provider_circuit_transitions_total', { gateway: 'stripe', to: 'half_open' }),
    ).toBe(1);
    expect(
      sample(after, 'payment_provider_circuit_transitions_total', { gateway: 'stripe', to: 'closed' }),
    ).toBe(1);
    expect((await t.api.get<Json>('/health/detailed')).body.status).toBe('healthy');
  });

  it('forces the circuit open and closed through the admin API, audited with old and new value', async () => {
    const forced = await t.admin.post<Json>('/admin/providers/stripe/circuit', { state: 'open' });
    expect(forced.status).toBe(200);
    expect(forced.body).toMatchObject({ provider: 'stripe', state: 'open', forced: 'open' });
    const before = await emulatorIntents();
    expect((await stripe().createPayment(request())) as Json).toMatchObject({
      status: 'no_charge',
      reason: 'circuit_open',
    });
    expect(await emulatorIntents()).toBe(before);
    const text = await metrics();
    expect(sample(text, 'payment_provider_circuit_state', { gateway: 'stripe' })).toBe(1);
    expect(sample(text, 'payment_provider_circuit_forced', { gateway: 'stripe' })).toBe(1);

    // Forced closed: a failing Stripe never opens it.
    expect((await t.admin.post('/admin/providers/stripe/circuit', { state: 'closed' })).status).toBe(200);
    await emulator.post('/_emulator/faults', { error_rate: 1, status: 500 }, { as: 'json' });
    try {
      for (let i = 0; i < 5; i++)
        expect(((await stripe().createPayment(request())) as Json).status).toBe('unknown');
    } finally {
      await emulator.delete('/_emulator/faults');
    }
    expect(sample(await metrics(), 'payment_provider_circuit_forced', { gateway: 'stripe' })).toBe(-1);

    expect((await t.admin.post('/admin/providers/stripe/circuit', { state: 'auto' })).status).toBe(200);
    const audit = await t.admin.get<{ data: Json[] }>('/admin/audit', { action: 'provider.circuit.set' });
    const values = audit.body.data.map((row) => [row.old_value, row.new_value]);
    expect(values).toEqual([
      [{ forced_state: 'closed' }, { forced_state: 'auto' }],
      [{ forced_state: 'open' }, { forced_state: 'closed' }],
      [{ forced_state: 'auto' }, { forced_state: 'open' }],
    ]);
    expect(audit.body.data[0]).toMatchObject({
      resource: { type: 'provider', id: 'stripe' },
      outcome: 'success',
    });

    expect(
      (await t.admin.post<Json>('/admin/providers/klarna/circuit', { state: 'open' })).body,
    ).toMatchObject({
      error: { param: 'name' },
    });
    expect(
      (await t.admin.post<Json>('/admin/providers/stripe/circuit', { state: 'half' })).body,
    ).toMatchObject({
      error: { param: 'state' },
    });
  });

  it('takes switch defaults from the environment and changes them at run time, audited', async () => {
    const listed = await t.admin.get<{ data: Json[] }>('/admin/switches');
    expect(listed.body.data).toEqual([
      expect.objectContaining({ name: 'circuit_breaker_enabled', enabled: true, source: 'default' }),
      expect.objectContaining({ name: 'fallback_provider_enabled', enabled: false, source: 'default' }),
    ]);
    expect(await t.service.gateway.fallbackEnabled()).toBe(false);
    const set = await t.admin.post<Json>('/admin/switches/fallback_provider_enabled', { enabled: true });
    expect(set.body).toMatchObject({ enabled: true, source: 'operator', default: false });
    expect(await t.service.gateway.fallbackEnabled()).toBe(true);

    // Breaker switched off: failures go straight through and the circuit stays closed.
    await t.admin.post('/admin/switches/circuit_breaker_enabled', { enabled: false });
    await emulator.post('/_emulator/faults', { error_rate: 1, status: 500 }, { as: 'json' });
    try {
      for (let i = 0; i < 5; i++)
        expect(((await stripe().createPayment(request())) as Json).status).toBe('unknown');
    } finally {
      await emulator.delete('/_emulator/faults');
    }
    expect(t.service.gateway.circuitStates().stripe).toMatchObject({
      state: 'closed',
      breaker_enabled: false,
    });
    await t.admin.post('/admin/switches/circuit_breaker_enabled', { enabled: true });
    expect(t.service.gateway.circuitStates().stripe).toMatchObject({ breaker_enabled: true });

    const audit = await t.admin.get<{ data: Json[] }>('/admin/audit', { action: 'runtime_switch.set' });
    expect(audit.body.data).toHaveLength(3);
    const oldest = audit.body.data[2] as Json;
    expect(oldest.old_value).toMatchObject({ enabled: false, source: 'default' });
    expect(oldest.new_value).toMatchObject({ enabled: true, source: 'operator' });
    expect((await t.admin.post<Json>('/admin/switches/kill_everything', { enabled: true })).status).toBe(400);
  });

  it("serves runbook 003's POST /actuator/circuit-breaker/enable (and disable), operators only", async () => {
    expect((await t.api.post('/actuator/circuit-breaker/enable')).status).toBe(401);
    const off = await t.admin.post<Json>('/actuator/circuit-breaker/disable');
    expect(off.status, off.text).toBe(200);
    expect(off.body).toMatchObject({ name: 'circuit_breaker_enabled', enabled: false });
    expect(t.service.gateway.circuitStates().stripe).toMatchObject({ breaker_enabled: false });
    const on = await t.admin.post<Json>('/actuator/circuit-breaker/enable');
    expect(on.body).toMatchObject({ name: 'circuit_breaker_enabled', enabled: true });
    expect(t.service.gateway.circuitStates().stripe).toMatchObject({ breaker_enabled: true });
  });

  it('lets a viewer read provider state but not change it', async () => {
    const created = await t.admin.post('/admin/operators', {
      email: 'viewer-resilience@example.test',
      password: 'viewer password 123',
      role: 'payment-viewer',
    });
    expect(created.status).toBe(200);
    const login = await t.api.post<{ token: string }>('/admin/login', {
      email: 'viewer-resilience@example.test',
      password: 'viewer password 123',
    });
    const viewer = t.api.withKey(login.body.token);
    expect((await viewer.get('/admin/providers')).status).toBe(200);
    expect((await viewer.get('/admin/switches')).status).toBe(200);
    expect((await viewer.post('/admin/providers/stripe/circuit', { state: 'open' })).status).toBe(403);
    expect((await viewer.post('/admin/switches/circuit_breaker_enabled', { enabled: false })).status).toBe(
      403,
    );
    expect(
      (await viewer.post('/admin/routing/rules', { payment_method_type: 'card', providers: ['stripe'] }))
        .status,
    ).toBe(403);
  });
});

describe('routing rules through the admin API', () => {
  const preview = async (q: Record<string, unknown>) =>
    (
      await t.admin.get<Json>('/admin/routing/preview', {
        merchant_id: t.merchantId,
        payment_method_type: 'card',
        currency: 'usd',
        amount: 1000,
        ...q,
      })
    ).body;

  it('routes by the defaults, then by the most specific rule, and audits every change', async () => {
    expect(await preview({})).toMatchObject({ providers: ['stripe', 'paypal'], rule: null, skipped: [] });
    // PayPal takes no KWD (the currency table's provider override).
    expect(await preview({ currency: 'kwd', amount: 10_000 })).toMatchObject({
      providers: ['stripe'],
      skipped: [{ provider: 'paypal' }],
    });
    const global = await t.admin.post<Json>(
      '/admin/routing/rules',
      { payment_method_type: 'card', providers: ['paypal', 'stripe'], priority: 50 },
      { as: 'json' },
    );
    expect(global.status).toBe(200);
    expect(global.body).toMatchObject({
      object: 'routing_rule',
      merchant_id: null,
      providers: ['paypal', 'stripe'],
    });
    const mine = await t.admin.post<Json>(
      '/admin/routing/rules',
      { merchant_id: t.merchantId, payment_method_type: 'card', providers: ['stripe'], min_amount: 5000 },
      { as: 'json' },
    );
    expect(mine.status).toBe(200);
    // The merchant's rule covers 5000 and up only; below it the global rule decides.
    expect(await preview({ amount: 6000 })).toMatchObject({ rule: mine.body.id, providers: ['stripe'] });
    expect(await preview({ amount: 1000 })).toMatchObject({
      rule: global.body.id,
      providers: ['paypal', 'stripe'],
    });
    expect(
      await t.service.gateway.route({
        merchantId: t.merchantId,
        livemode: false,
        paymentMethodType: 'card',
        currency: 'usd',
        amount: 6000,
      }),
    ).toEqual(['stripe']);

    const changed = await t.admin.post<Json>(
      `/admin/routing/rules/${mine.body.id}`,
      { max_amount: 7000 },
      { as: 'json' },
    );
    expect(changed.body).toMatchObject({ min_amount: 5000, max_amount: 7000 });
    expect(await preview({ amount: 8000 })).toMatchObject({ rule: global.body.id });
    expect((await t.admin.get<Json>(`/admin/routing/rules/${mine.body.id}`)).body).toMatchObject({
      max_amount: 7000,
    });
    const listed = await t.admin.get<{ data: Json[] }>('/admin/routing/rules');
    expect(listed.body.data.map((r) => r.id)).toEqual([mine.body.id, global.body.id]);

    expect((await t.admin.delete<Json>(`/admin/routing/rules/${mine.body.id}`)).body).toMatchObject({
      deleted: true,
    });
    expect((await t.admin.get(`/admin/routing/rules/${mine.body.id}`)).status).toBe(404);
    await t.admin.delete(`/admin/routing/rules/${global.body.id}`);
    expect(await preview({ amount: 6000 })).toMatchObject({ rule: null });

    const audit = await t.admin.get<{ data: Json[] }>('/admin/audit', { resource: mine.body.id });
    expect(audit.body.data.map((row) => row.action)).toEqual([
      'routing_rule.delete',
      'routing_rule.update',
      'routing_rule.create',
    ]);
    const update = audit.body.data[1] as Json;
    expect(update.old_value).toMatchObject({ max_amount: null });
    expect(update.new_value).toMatchObject({ max_amount: 7000 });
  });

  it('refuses bad rules with a 400 naming the parameter, and changes nothing', async () => {
    const bad = async (body: Json) =>
      (await t.admin.post<Json>('/admin/routing/rules', body, { as: 'json' })).body;
    expect(await bad({ payment_method_type: 'card', providers: ['stripe', 'adyen'] })).toMatchObject({
      error: { type: 'invalid_request_error', param: 'providers[1]' },
    });
    expect(await bad({ payment_method_type: 'card', providers: ['stripe'], currency: 'xyz' })).toMatchObject({
      error: { param: 'currency' },
    });
    expect(
      await bad({ payment_method_type: 'card', providers: ['stripe'], min_amount: 500, max_amount: 100 }),
    ).toMatchObject({ error: { param: 'min_amount' } });
    expect(await bad({ payment_method_type: 'card', providers: [] })).toMatchObject({
      error: { param: 'providers' },
    });
    expect(
      await bad({ payment_method_type: 'card', providers: ['stripe'], merchant_id: 'acct_nobody' }),
    ).toMatchObject({
      error: { param: 'merchant_id' },
    });
    expect(await bad({ payment_method_type: 'cheque', providers: ['stripe'] })).toMatchObject({
      error: { param: 'payment_method_type' },
    });
    expect((await t.admin.get<{ data: Json[] }>('/admin/routing/rules')).body.data).toEqual([]);
  });
});
