// Starts a Stripe emulator for a test file and gives the official SDK and the control API over HTTP.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Stripe from 'stripe';
import { AdjustableClock } from '../src/clock.js';
import {
  type StripeEmulator,
  type StripeEmulatorOptions,
  startStripeEmulator,
} from '../src/emulators/stripe/index.js';
import { Api } from './support/http.js';

export interface EmulatorHarness {
  emulator: StripeEmulator;
  clock: AdjustableClock;
  stripe: Stripe;
  api: Api;
  sdk(key?: string, options?: Partial<Stripe.StripeConfig>): Stripe;
  control: Api;
  state<T = StateBody>(types?: string): Promise<T>;
}

export interface WireObject {
  id: string;
  account: string;
  [key: string]: unknown;
}

export interface StateBody {
  counts: Record<string, number>;
  charges: WireObject[];
  payment_intents: WireObject[];
  refunds: WireObject[];
  disputes: WireObject[];
  events: WireObject[];
  balance_transactions: WireObject[];
  payment_methods: WireObject[];
  idempotency_keys: number;
}

export const TEST_KEY = 'sk_test_emulator_suite';

export function tempDataDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'stripe-emulator-'));
}

export async function startHarness(options: Partial<StripeEmulatorOptions> = {}): Promise<EmulatorHarness> {
  const clock = new AdjustableClock();
  const emulator = await startStripeEmulator({ port: 0, clock, ...options });
  const port = emulator.port;
  const sdk = (key = TEST_KEY, extra: Partial<Stripe.StripeConfig> = {}) =>
    new Stripe(key, { host: '127.0.0.1', port, protocol: 'http', maxNetworkRetries: 0, ...extra });
  const control = new Api(emulator.url);
  return {
    emulator,
    clock,
    stripe: sdk(),
    api: new Api(emulator.url, TEST_KEY),
    sdk,
    control,
    async state<T>(types?: string) {
      const reply = await control.get<T>('/_emulator/state', types ? { types } : undefined);
      return reply.body;
    },
  };
}
