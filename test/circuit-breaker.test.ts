// The guards of src/providers/resilience.ts around a programmed in-test provider: the breaker opens on
// the failure ratio and answers circuit_open without calling, half-opens after the delay and closes on
// a good probe; overrides and the switch; bulkhead, rate limit, 429 back-off, deadline; pass-through.
import client from 'prom-client';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../src/clock.js';
import type { AttemptContext, PaymentOutcome, PaymentProvider } from '../src/providers/provider.js';
import {
  type ControlsSnapshot,
  type ControlsSource,
  type GuardSettings,
  isBreakerFailure,
  ProviderGuard,
  ResilienceMetrics,
  resilienceOf,
  wrapProvider,
} from '../src/providers/resilience.js';

const context: AttemptContext = {
  attemptId: 'att_1',
  livemode: false,
  merchantId: 'm',
  paymentIntentId: 'pi',
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class Controls implements ControlsSource {
  value: ControlsSnapshot = {
    forced: {},
    switches: { circuit_breaker_enabled: true, fallback_provider_enabled: true },
  };
  async snapshot() {
    return this.value;
  }
  peek() {
    return this.value;
  }
}

type Answer = PaymentOutcome | (() => Promise<PaymentOutcome>);

/** Answers retrieve() with the queued outcomes (the last one repeats) and counts its calls. */
class ProgrammedProvider {
  readonly name = 'stripe' as const;
  calls = 0;
  answers: Answer[] = [];
  cardsEnabled: boolean | undefined = false;
  async createPayment() {
    this.calls++;
    return { providerPaymentId: 'pp_1' };
  }
  async retrieve(): Promise<PaymentOutcome> {
    this.calls++;
    const answer = this.answers.length > 1 ? this.answers.shift() : this.answers[0];
    if (!answer) throw new Error('no answer programmed');
    return typeof answer === 'function' ? answer() : answer;
  }
  confirm = this.retrieve;
  capture = this.retrieve;
  cancel = this.retrieve;
  async refund() {
    this.calls++;
    return { status: 'succeeded' as const, providerRefundId: 're_1' };
  }
  parseWebhook() {
    return { providerEventId: 'evt_1', type: 'x', occurredAt: new Date(0), payload: { raw: true } };
  }
  async complete(): Promise<PaymentOutcome> {
    this.calls++;
    return { status: 'unknown', message: 'complete timed out' };
  }
}

const unknown: PaymentOutcome = { status: 'unknown', providerPaymentId: 'pp_1', message: 'socket reset' };
const succeeded: PaymentOutcome = {
  status: 'succeeded',
  providerPaymentId: 'pp_1',
  charge: { providerChargeId: 'ch_1', amount: 100, amountCaptured: 100 },
};
const declined: PaymentOutcome = {
  status: 'declined',
  providerPaymentId: 'pp_1',
  code: 'card_declined',
  message: 'declined',
};

function setup(overrides: Partial<GuardSettings> = {}, breaker: Partial<GuardSettings['breaker']> = {}) {
  const registry = new client.Registry();
  const metrics = new ResilienceMetrics(registry);
  const controls = new Controls();
  const inner = new ProgrammedProvider();
  const guard = new ProviderGuard({
    name: 'stripe',
    settings: {
      breaker: { failureRatio: 0.5, windowMs: 10_000, minCalls: 4, halfOpenAfterMs: 200, ...breaker },
      maxConcurrency: 16,
      maxQueue: 16,
      rateLimitPerSecond: 0,
      rateLimitMaxWaitMs: 0,
      ...overrides,
    },
    controls,
    metrics,
    clock: systemClock,
  });
  const provider = wrapProvider(inner as unknown as PaymentProvider, guard);
  return { registry, controls, inner, guard, provider };
}

async function metricValue(registry: client.Registry, name: string, labels: Record<string, string>) {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const found = metric?.values.find((v) =>
    Object.entries(labels).every(([k, value]) => String(v.labels[k]) === value),
  );
  return found?.value;
}

describe('what counts against the breaker', () => {
  it('counts unknown and the no-answer no_charge reasons, not declines, 3DS or invalid requests', () => {
    expect(isBreakerFailure(unknown)).toBe(true);
    for (const reason of ['connection_refused', 'dns', 'tls', 'rate_limited', 'authentication']) {
      expect(isBreakerFailure({ status: 'no_charge', reason, message: '' })).toBe(true);
    }
    expect(isBreakerFailure({ status: 'no_charge', reason: 'invalid_request', message: '' })).toBe(false);
    expect(isBreakerFailure(declined)).toBe(false);
    expect(isBreakerFailure(succeeded)).toBe(false);
    expect(isBreakerFailure({ status: 'requires_action', providerPaymentId: 'p', redirectUrl: 'u' })).toBe(
      false,
    );
    expect(isBreakerFailure({ providerPaymentId: 'p' })).toBe(false);
  });
});

describe('circuit breaker', () => {
  it('opens past the failure ratio, answers circuit_open without calling, half-opens and closes', async () => {
    const { inner, provider, guard, registry } = setup();
    inner.answers = [succeeded, unknown, unknown];
    expect((await provider.retrieve(context, 'pp_1')).status).toBe('succeeded');
    expect((await provider.retrieve(context, 'pp_1')).status).toBe('unknown');
    expect((await provider.retrieve(context, 'pp_1')).status).toBe('unknown');
    // 2 of 3 failed but the window holds fewer than 4 calls: still closed.
    expect(guard.status().state).toBe('closed');
    expect((await provider.retrieve(context, 'pp_1')).status).toBe('unknown');
    expect(guard.status().state).toBe('open');
    expect(inner.calls).toBe(4);

    const refused = await provider.retrieve(context, 'pp_1');
    expect(refused).toMatchObject({ status: 'no_charge', reason: 'circuit_open' });
    expect(inner.calls).toBe(4);
    expect(await metricValue(registry, 'payment_provider_circuit_transitions_total', { to: 'open' })).toBe(1);
    expect(
      await metricValue(registry, 'payment_provider_calls_total', {
        operation: 'retrieve',
        outcome: 'circuit_open',
      }),
    ).toBe(1);

    await sleep(220);
    let release: (outcome: PaymentOutcome) => void = () => {};
    inner.answers = [() => new Promise<PaymentOutcome>((resolve) => (release = resolve))];
    const probe = provider.retrieve(context, 'pp_1');
    await sleep(10);
    expect(inner.calls).toBe(5);
    expect(guard.status().state).toBe('half_open');
    // Others fall back at once while the one probe is out.
    expect(await provider.retrieve(context, 'pp_1')).toMatchObject({ reason: 'circuit_open' });
    expect(inner.calls).toBe(5);
    release(succeeded);
    expect((await probe).status).toBe('succeeded');
    expect(guard.status().state).toBe('closed');
    inner.answers = [succeeded];
    expect((await provider.retrieve(context, 'pp_1')).status).toBe('succeeded');
    expect(
      await metricValue(registry, 'payment_provider_circuit_transitions_total', { to: 'half_open' }),
    ).toBe(1);
    expect(await metricValue(registry, 'payment_provider_circuit_transitions_total', { to: 'closed' })).toBe(
      1,
    );
  });

  it('reopens when the probe fails', async () => {
    const { inner, provider, guard } = setup({}, { minCalls: 2 });
    inner.answers = [unknown];
    await provider.retrieve(context, 'pp_1');
    await provider.retrieve(context, 'pp_1');
    expect(guard.status().state).toBe('open');
    await sleep(220);
    expect((await provider.retrieve(context, 'pp_1')).status).toBe('unknown');
    expect(inner.calls).toBe(3);
    expect(guard.status().state).toBe('open');
    expect(await provider.retrieve(context, 'pp_1')).toMatchObject({ reason: 'circuit_open' });
    expect(inner.calls).toBe(3);
  });

  it('stays closed on declines and invalid requests: the provider answered', async () => {
    const { inner, provider, guard } = setup({}, { minCalls: 2 });
    inner.answers = [declined, { status: 'no_charge', reason: 'invalid_request', message: 'bad' }];
    for (let i = 0; i < 10; i++) await provider.retrieve(context, 'pp_1');
    expect(guard.status().state).toBe('closed');
    expect(inner.calls).toBe(10);
  });

  it('counts thrown errors as failures and rethrows them', async () => {
    const { inner, provider, guard } = setup({}, { minCalls: 2 });
    inner.answers = [
      async () => {
        throw new Error('adapter bug');
      },
    ];
    await expect(provider.retrieve(context, 'pp_1')).rejects.toThrow('adapter bug');
    await expect(provider.retrieve(context, 'pp_1')).rejects.toThrow('adapter bug');
    expect(guard.status().state).toBe('open');
  });

  it('leaves an in-flight call its own unknown outcome when the circuit opens meanwhile', async () => {
    const { inner, provider, guard } = setup({}, { minCalls: 2 });
    let release: (outcome: PaymentOutcome) => void = () => {};
    inner.answers = [() => new Promise<PaymentOutcome>((resolve) => (release = resolve)), unknown];
    const slow = provider.retrieve(context, 'pp_slow');
    await provider.retrieve(context, 'pp_1');
    await provider.retrieve(context, 'pp_1');
    expect(guard.status().state).toBe('open');
    release({ status: 'unknown', providerPaymentId: 'pp_slow', message: 'timed out' });
    expect(await slow).toEqual({ status: 'unknown', providerPaymentId: 'pp_slow', message: 'timed out' });
  });
});

describe('overrides and the breaker switch', () => {
  it('forced open answers circuit_open without calling; forced closed never opens', async () => {
    const { inner, provider, guard, controls, registry } = setup({}, { minCalls: 2 });
    controls.value = { ...controls.value, forced: { stripe: 'open' } };
    inner.answers = [succeeded];
    expect(await provider.retrieve(context, 'pp_1')).toMatchObject({
      status: 'no_charge',
      reason: 'circuit_open',
    });
    expect(inner.calls).toBe(0);
    expect(guard.status()).toMatchObject({ state: 'open', forced: 'open' });

    controls.value = { ...controls.value, forced: { stripe: 'closed' } };
    inner.answers = [unknown];
    for (let i = 0; i < 6; i++) expect((await provider.retrieve(context, 'pp_1')).status).toBe('unknown');
    expect(inner.calls).toBe(6);
    expect(guard.status()).toMatchObject({ state: 'closed', forced: 'closed', breaker_state: 'closed' });
    expect(await metricValue(registry, 'payment_provider_circuit_transitions_total', { to: 'open' })).toBe(1);
  });

  it('with the breaker switch off, failures go straight through and nothing opens', async () => {
    const { inner, provider, guard, controls } = setup({}, { minCalls: 2 });
    controls.value = {
      ...controls.value,
      switches: { circuit_breaker_enabled: false, fallback_provider_enabled: true },
    };
    inner.answers = [unknown];
    for (let i = 0; i < 8; i++) expect((await provider.retrieve(context, 'pp_1')).status).toBe('unknown');
    expect(inner.calls).toBe(8);
    expect(guard.status()).toMatchObject({ state: 'closed', breaker_enabled: false });
  });
});

describe('back-pressure', () => {
  it('answers no_charge rate_limited (overloaded) without calling when the bulkhead and queue are full', async () => {
    const { inner, provider, guard } = setup({ maxConcurrency: 1, maxQueue: 1 });
    let release: (outcome: PaymentOutcome) => void = () => {};
    inner.answers = [() => new Promise<PaymentOutcome>((resolve) => (release = resolve)), succeeded];
    const first = provider.retrieve(context, 'pp_1');
    const queued = provider.retrieve(context, 'pp_1');
    await sleep(5);
    expect(guard.status()).toMatchObject({ in_flight: 1, queue_depth: 1 });
    const rejected = await provider.retrieve(context, 'pp_1');
    expect(rejected).toMatchObject({ status: 'no_charge', reason: 'rate_limited' });
    expect((rejected as { message: string }).message).toMatch(/overloaded/);
    expect(inner.calls).toBe(1);
    release(succeeded);
    expect((await first).status).toBe('succeeded');
    expect((await queued).status).toBe('succeeded');
    expect(inner.calls).toBe(2);
    // Our own refusals are not the provider failing: the circuit stays closed.
    expect(guard.status().state).toBe('closed');
  });

  it('backs off after a 429 until Retry-After passes, then calls again', async () => {
    const { inner, provider, guard } = setup();
    inner.answers = [
      { status: 'no_charge', reason: 'rate_limited', message: 'slow down', retryAfterMs: 200 },
      succeeded,
    ];
    expect(await provider.retrieve(context, 'pp_1')).toMatchObject({ reason: 'rate_limited' });
    expect(inner.calls).toBe(1);
    expect(guard.status().backoff_until).not.toBeNull();
    const held = await provider.retrieve(context, 'pp_1');
    expect(held).toMatchObject({ status: 'no_charge', reason: 'rate_limited' });
    expect((held as { message: string }).message).toMatch(/backing off/);
    expect(inner.calls).toBe(1);
    await sleep(230);
    expect((await provider.retrieve(context, 'pp_1')).status).toBe('succeeded');
    expect(inner.calls).toBe(2);
    expect(guard.status().backoff_until).toBeNull();
  });

  it('holds nothing back when a 429 carries no Retry-After (the breaker counts it instead)', async () => {
    const { inner, provider, guard } = setup();
    inner.answers = [{ status: 'no_charge', reason: 'rate_limited', message: 'slow down' }, succeeded];
    await provider.retrieve(context, 'pp_1');
    expect(guard.status().backoff_until).toBeNull();
    expect((await provider.retrieve(context, 'pp_1')).status).toBe('succeeded');
    expect(inner.calls).toBe(2);
  });

  it('limits calls per second, waiting a bounded time for a token', async () => {
    const { inner, provider } = setup({ rateLimitPerSecond: 2, rateLimitMaxWaitMs: 0 });
    inner.answers = [succeeded];
    expect((await provider.retrieve(context, 'pp_1')).status).toBe('succeeded');
    expect((await provider.retrieve(context, 'pp_1')).status).toBe('succeeded');
    const limited = await provider.retrieve(context, 'pp_1');
    expect(limited).toMatchObject({ status: 'no_charge', reason: 'rate_limited' });
    expect(inner.calls).toBe(2);

    const waiting = setup({ rateLimitPerSecond: 10, rateLimitMaxWaitMs: 500 });
    waiting.inner.answers = [succeeded];
    const started = performance.now();
    const all = await Promise.all(
      Array.from({ length: 12 }, () => waiting.provider.retrieve(context, 'pp_1')),
    );
    expect(all.every((o) => o.status === 'succeeded')).toBe(true);
    // 10 from the full bucket, two more at 100 ms each.
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
  });

  it('turns a call past its deadline into unknown (it may have charged)', async () => {
    const { inner, provider } = setup({ timeoutMs: 50 });
    inner.answers = [() => new Promise<PaymentOutcome>(() => {})];
    const outcome = await provider.retrieve(context, 'pp_1');
    expect(outcome.status).toBe('unknown');
    expect((outcome as { message: string }).message).toMatch(/within 50 ms/);
  });
});

describe('the wrapper', () => {
  it('guards optional methods, passes parseWebhook and extra properties through live', async () => {
    const { inner, provider, controls } = setup();
    const wrapped = provider as PaymentProvider & {
      cardsEnabled?: boolean;
      complete?: (ctx: AttemptContext) => Promise<PaymentOutcome>;
    };
    expect(wrapped.cardsEnabled).toBe(false);
    inner.cardsEnabled = undefined;
    expect(wrapped.cardsEnabled).toBeUndefined();
    expect((await wrapped.parseWebhook(Buffer.from(''), {})).payload).toEqual({ raw: true });
    expect(wrapped.name).toBe('stripe');
    expect(resilienceOf(provider)?.inner).toBe(inner);
    expect(await provider.createPayment({} as never)).toEqual({ providerPaymentId: 'pp_1' });
    expect(await provider.refund({ ...context, refundId: 're' }, 'pp_1', 100)).toMatchObject({
      status: 'succeeded',
    });

    controls.value = { ...controls.value, forced: { stripe: 'open' } };
    const calls = inner.calls;
    expect(await wrapped.complete?.(context)).toMatchObject({ reason: 'circuit_open' });
    expect(await provider.refund({ ...context, refundId: 're' }, 'pp_1', 100)).toMatchObject({
      status: 'no_charge',
      reason: 'circuit_open',
    });
    expect(inner.calls).toBe(calls);
    // A provider without the optional method does not grow one.
    const plain = wrapProvider(
      { name: 'stripe', retrieve: async () => succeeded } as unknown as PaymentProvider,
      setup().guard,
    );
    expect((plain as { complete?: unknown }).complete).toBeUndefined();
    expect((await plain.retrieve(context, 'pp_1')).status).toBe('succeeded');
  });
});
