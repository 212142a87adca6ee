// PayPal in the provider registry: the options refused before anything starts (live mode with the
// sandbox or an emulator, a base URL without credentials), and the embedded service running the PayPal
// emulator in process: wired to the connector, its webhooks aimed at our /webhooks/paypal, the ACDC
// check deciding whether PayPal may take cards, and the `paypal_api` health check.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { EMBEDDED_PAYPAL_WEBHOOK_ID, providerConfigProblems } from '../src/providers/registry.js';
import { Api } from './support/http.js';
import { startTestService, type TestService } from './support/service.js';

const LIVE_STRIPE = {
  STRIPE_SECRET_KEY: 'sk_live_51RegistrySuiteKey0000',
  STRIPE_API_BASE: 'https://api.stripe.com',
};
const PAYPAL_CREDENTIALS = { PAYPAL_CLIENT_ID: 'client', PAYPAL_CLIENT_SECRET: 'secret' };

describe('validating PayPal options at start', () => {
  it('refuses the PayPal sandbox and emulators in live mode, naming PAYPAL_API_BASE', () => {
    const sandbox = loadConfig({
      ...LIVE_STRIPE,
      ...PAYPAL_CREDENTIALS,
      PAYPAL_API_BASE: 'https://api-m.sandbox.paypal.com',
    });
    expect(providerConfigProblems(sandbox)).toEqual([
      expect.stringMatching(
        /^PAYPAL_API_BASE: the PayPal sandbox \(api-m\.sandbox\.paypal\.com\) in live mode/,
      ),
    ]);
    const emulator = loadConfig({
      APP_ENV: 'production',
      ...LIVE_STRIPE,
      ...PAYPAL_CREDENTIALS,
      PAYPAL_API_BASE: 'http://127.0.0.1:4010',
    });
    expect(providerConfigProblems(emulator)).toEqual([
      expect.stringMatching(
        /^PAYPAL_API_BASE: a PayPal emulator \(127\.0\.0\.1:4010\) is refused in live mode/,
      ),
    ]);
    const live = loadConfig({
      ...LIVE_STRIPE,
      ...PAYPAL_CREDENTIALS,
      PAYPAL_API_BASE: 'https://api-m.paypal.com',
    });
    expect(providerConfigProblems(live)).toEqual([]);
  });

  it('names a base URL without credentials, half a credential pair, and a base URL with a path', () => {
    expect(providerConfigProblems(loadConfig({ PAYPAL_API_BASE: 'http://127.0.0.1:4010' }))).toEqual([
      'PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET: required when PAYPAL_API_BASE is set',
    ]);
    expect(providerConfigProblems(loadConfig({ PAYPAL_CLIENT_ID: 'only-the-id' }))).toEqual([
      'PAYPAL_CLIENT_SECRET: required when PAYPAL_CLIENT_ID is set',
    ]);
    expect(
      providerConfigProblems(
        loadConfig({ ...PAYPAL_CREDENTIALS, PAYPAL_API_BASE: 'http://127.0.0.1:4010/v2' }),
      ),
    ).toEqual([expect.stringMatching(/^PAYPAL_API_BASE: must be scheme:\/\/host\[:port\] without a path/)]);
  });

  it('parses PAYPAL_TIMEOUT_MS (default 10000) and PAYPAL_CERT_HOSTS', () => {
    expect(loadConfig({}).PAYPAL_TIMEOUT_MS).toBe(10_000);
    const config = loadConfig({
      PAYPAL_TIMEOUT_MS: '2500',
      PAYPAL_CERT_HOSTS: 'certs.example.com, 127.0.0.1:9000',
    });
    expect(config.PAYPAL_TIMEOUT_MS).toBe(2_500);
    expect(config.PAYPAL_CERT_HOSTS).toEqual(['certs.example.com', '127.0.0.1:9000']);
    expect(() => loadConfig({ PAYPAL_TIMEOUT_MS: '5' })).toThrow(/PAYPAL_TIMEOUT_MS: must be between 100/);
  });
});

describe('embedded PayPal emulator', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('runs in process on loopback, the connector talks to it, and cards are on (ACDC active)', async () => {
    const { providers } = t.service;
    const emulator = providers.emulators.paypal;
    expect(emulator?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(providers.get('paypal')).toBe(providers.paypal);
    expect(providers.supportsCards('paypal')).toBe(true);
    expect(providers.supportsCards('stripe')).toBe(true);
    expect(providers.supportsCards('wallet')).toBe(false);
    expect(t.logs.some((line) => String(line['msg']).startsWith('PayPal card payments are on'))).toBe(true);
    const created = await providers.paypal!.createPayment({
      attemptId: 'att_registry',
      livemode: false,
      merchantId: t.merchantId,
      paymentIntentId: 'pi_x',
      amount: 500,
      currency: 'eur',
      captureMethod: 'automatic',
    });
    expect(created).toMatchObject({ providerPaymentId: expect.stringMatching(/^[A-Z0-9]{17}$/) });
  });

  it('aims the emulator at <service>/webhooks/paypal with the embedded webhook id', async () => {
    const control = new Api(t.service.providers.emulators.paypal!.url);
    const target = await control.get<{ url: string; secret: string }>('/_emulator/webhook_target');
    expect(target.body).toEqual({ url: `${t.url}/webhooks/paypal`, secret: EMBEDDED_PAYPAL_WEBHOOK_ID });
  });

  it('reports paypal_api connected in /health/detailed, and disconnected when PayPal fails, without failing the service', async () => {
    type Detailed = { status: string; checks: Record<string, { status: string; state: string }> };
    const health = await t.api.get<Detailed>('/health/detailed');
    expect(health.body.checks.paypal_api).toMatchObject({ status: 'up', state: 'connected' });
    const emulator = t.service.providers.emulators.paypal!;
    emulator.faults.set({ error_rate: 1, status: 503 });
    try {
      const down = await t.api.get<Detailed>('/health/detailed');
      expect(down.body.checks.paypal_api).toMatchObject({ status: 'down', state: 'disconnected' });
      // PayPal is not critical to the service's own health: it degrades, it does not fail.
      expect(down.status).toBe(200);
      expect(down.body.status).toBe('degraded');
    } finally {
      emulator.faults.reset();
    }
  });
});

describe('a PayPal account without advanced card processing', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService({
      env: { PAYPAL_CLIENT_ID: 'noacdc-registry-suite', PAYPAL_CLIENT_SECRET: 'registry-suite-secret' },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('starts, says PayPal card payments are off and why, and keeps PayPal for its own approval flow', () => {
    const { providers } = t.service;
    expect(providers.paypal).toBeDefined();
    expect(providers.supportsCards('paypal')).toBe(false);
    const warning = t.logs.find((line) => String(line['msg']).startsWith('PayPal card payments are off'));
    expect(warning?.['level']).toBe('warn');
    expect(String(warning?.['msg'])).toContain('CUSTOM_CARD_PROCESSING is SUSPENDED');
  });
});
