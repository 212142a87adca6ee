// A Stripe emulator of a test's own, outside the service, that the test can take down and bring back
// on the same port: what "Stripe refusing connections" is (ECONNREFUSED, not a reset), and what the
// circuit breaker and fallback react to. PayPal stays the service's embedded emulator.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Stripe from 'stripe';
import { AdjustableClock } from '../../src/clock.js';
import { type StripeEmulator, startStripeEmulator } from '../../src/emulators/stripe/index.js';
import { EMBEDDED_STRIPE_KEY } from '../../src/providers/registry.js';
import { Api } from './http.js';
import { metricValue as sampleOf } from './jobs.js';
import type { TestService } from './service.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface OutsideStripe {
  url: string;
  control: Api;
  /** Env for startTestService: the service calls this emulator and accepts its webhooks. */
  env: Record<string, string>;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Points the emulator's webhooks at the service (after it listens). */
  target(service: TestService): Promise<void>;
  charges(): Promise<{ id: string; payment_intent: string; status: string; amount: number }[]>;
}

export async function outsideStripe(): Promise<OutsideStripe> {
  const port = await freePort();
  const clock = new AdjustableClock();
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  let emulator: StripeEmulator | undefined;
  let webhookUrl: string | undefined;
  const url = `http://127.0.0.1:${port}`;
  const control = new Api(url);
  // Kept on disk, so what it charged before going down is still there when it comes back.
  const dataDir = mkdtempSync(path.join(tmpdir(), 'outside-stripe-'));
  const start = async () => {
    emulator = await startStripeEmulator({ port, host: '127.0.0.1', clock, dataDir });
    if (webhookUrl) emulator.setWebhookTarget({ url: webhookUrl, secret });
  };
  await start();
  return {
    url,
    control,
    env: {
      STRIPE_API_BASE: url,
      STRIPE_SECRET_KEY: `sk_test_outside_${randomBytes(6).toString('hex')}`,
      STRIPE_WEBHOOK_SECRET: secret,
    },
    async stop() {
      await emulator?.close();
      emulator = undefined;
    },
    start,
    async target(service) {
      webhookUrl = `${service.url}/webhooks/stripe`;
      emulator?.setWebhookTarget({ url: webhookUrl, secret });
    },
    async charges() {
      const state = await control.get<{
        charges: { id: string; payment_intent: string; status: string; amount: number }[];
      }>('/_emulator/state', { types: 'charges' });
      return state.body.charges;
    },
  };
}

/** The service's embedded PayPal emulator's control API. */
export function paypalControl(t: TestService): Api {
  const url = (t.service.providers.emulators as { paypal?: { url: string } }).paypal?.url;
  if (!url) throw new Error('the embedded PayPal emulator is not running');
  return new Api(url);
}

/** Attempts of an intent as the admin API shows them, oldest first. */
export async function attemptsOf(t: TestService, intentId: string) {
  const reply = await t.admin.get<{
    data: { provider: string; status: string; error: { code?: string; message?: string } | null }[];
  }>(`/admin/payment_intents/${intentId}/attempts`);
  if (reply.status !== 200) throw new Error(`attempts of ${intentId}: ${reply.text}`);
  return reply.body.data;
}

/** A metric sample's value from /metrics, or undefined when absent. */
export async function metricValue(t: TestService, name: string, labels: Record<string, string>) {
  return sampleOf((await t.api.get('/metrics')).text, name, labels);
}

/**
 * The embedded Stripe emulator's own API through Stripe's SDK, as another system on the same Stripe
 * account would use it (a charge made there is unknown to us), and its control API beside it.
 */
export function embeddedStripe(t: TestService): { stripe: Stripe; emulator: Api } {
  const url = new URL(t.service.providers.emulators.stripe?.url as string);
  const stripe = new Stripe(EMBEDDED_STRIPE_KEY, {
    host: url.hostname,
    port: Number(url.port),
    protocol: 'http',
    maxNetworkRetries: 0,
  });
  return { stripe, emulator: new Api(url.origin) };
}
