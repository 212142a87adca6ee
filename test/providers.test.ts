// Provider registry: live mode refuses test keys and the emulators before anything starts, and the
// embedded service runs the Stripe emulator in process, wired to the connector, to the health check
// and (once listening) with its webhooks aimed at our /webhooks/stripe.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createService } from '../src/main.js';
import { ProviderConfigError, providerConfigProblems } from '../src/providers/registry.js';
import { Api } from './support/http.js';
import { startTestService, type TestService } from './support/service.js';

const TEST_KEY = 'sk_test_51ProvidersSuiteKey0000';
const LIVE_KEY = 'sk_live_51ProvidersSuiteKey0000';

describe('validating provider options at start', () => {
  it('refuses to start in live mode with a test Stripe key, naming STRIPE_SECRET_KEY', async () => {
    const config = loadConfig({
      APP_ENV: 'production',
      STRIPE_SECRET_KEY: TEST_KEY,
      STRIPE_API_BASE: 'https://api.stripe.com',
    });
    const error = await createService(config).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderConfigError);
    expect((error as Error).message).toMatch(
      /STRIPE_SECRET_KEY: a test-mode key \(sk_test_\.\.\.\) in live mode/,
    );
    expect((error as Error).message).not.toContain(TEST_KEY);
  });

  it('refuses the embedded emulators in live mode', () => {
    expect(providerConfigProblems(loadConfig({ STRIPE_SECRET_KEY: LIVE_KEY }))).toEqual([
      expect.stringMatching(/^EMULATORS: .*refused in live mode \(a live STRIPE_SECRET_KEY\)/),
    ]);
    expect(providerConfigProblems(loadConfig({ APP_ENV: 'production', EMULATORS: 'embedded' }))).toEqual([
      expect.stringMatching(/^EMULATORS: .*APP_ENV=production/),
    ]);
  });

  it('accepts live mode with a live key against Stripe, and test keys outside live mode', () => {
    const live = {
      APP_ENV: 'production',
      STRIPE_SECRET_KEY: LIVE_KEY,
      STRIPE_API_BASE: 'https://api.stripe.com',
    };
    expect(providerConfigProblems(loadConfig(live))).toEqual([]);
    expect(providerConfigProblems(loadConfig({ STRIPE_SECRET_KEY: TEST_KEY }))).toEqual([]);
    expect(providerConfigProblems(loadConfig({}))).toEqual([]);
  });

  it('names malformed Stripe settings', () => {
    expect(
      providerConfigProblems(
        loadConfig({ STRIPE_API_BASE: 'http://127.0.0.1:1234/stripe', STRIPE_SECRET_KEY: 'nope' }),
      ),
    ).toEqual([
      expect.stringMatching(/^STRIPE_SECRET_KEY: must be a Stripe secret/),
      expect.stringMatching(/^STRIPE_API_BASE: must be scheme:\/\/host\[:port\]/),
    ]);
    expect(providerConfigProblems(loadConfig({ STRIPE_API_BASE: 'http://127.0.0.1:1234' }))).toEqual([
      'STRIPE_SECRET_KEY: required when STRIPE_API_BASE is set',
    ]);
  });
});

describe('embedded Stripe emulator', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService({
      env: { STRIPE_WEBHOOK_SECRET: 'whsec_configured_one,whsec_configured_two' },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('runs in process on loopback, and the connector talks to it', async () => {
    const { providers } = t.service;
    const emulator = providers.emulators.stripe;
    expect(emulator?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(providers.get('stripe')).toBe(providers.stripe);
    const context = {
      attemptId: 'att_registry',
      livemode: false,
      merchantId: t.merchantId,
      paymentIntentId: 'pi_x',
    };
    const created = await providers.stripe!.createPayment({
      ...context,
      amount: 500,
      currency: 'eur',
      captureMethod: 'automatic',
    });
    expect(created).toMatchObject({ providerPaymentId: expect.stringMatching(/^pi_/) });
  });

  it('accepts the configured webhook secrets plus the one it gave the emulator, which posts to us', async () => {
    const secrets = t.service.providers.stripeWebhookSecrets;
    expect(secrets.slice(0, 2)).toEqual(['whsec_configured_one', 'whsec_configured_two']);
    expect(secrets).toHaveLength(3);
    expect(secrets[2]).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const control = new Api(t.service.providers.emulators.stripe!.url);
    const target = await control.get<{ url: string; secret: string }>('/_emulator/webhook_target');
    expect(target.body).toEqual({ url: `${t.url}/webhooks/stripe`, secret: secrets[2] });
  });

  it('reports stripe_api connected in /health/payments, and disconnected when Stripe stops answering', async () => {
    const health = await t.api.get<{ checks: Record<string, string> }>('/health/payments');
    expect(health.status).toBe(200);
    expect(health.body.checks.stripe_api).toBe('connected');

    const emulator = t.service.providers.emulators.stripe!;
    emulator.faults.set({ error_rate: 1, status: 401 });
    try {
      const down = await t.api.get<{ status: string; checks: Record<string, string> }>('/health/payments');
      expect(down.body.checks.stripe_api).toBe('disconnected');
      // Stripe is not critical to the service's own health: it degrades, it does not fail.
      expect(down.status).toBe(200);
      expect(down.body.status).toBe('degraded');
    } finally {
      emulator.faults.reset();
    }
  });
});
