// Starts a PayPal emulator for a test file and talks to it over real HTTP the way a PayPal client does:
// OAuth client credentials, Bearer tokens, JSON bodies and PayPal-Request-Id.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AdjustableClock } from '../src/clock.js';
import {
  type PayPalEmulator,
  type PayPalEmulatorOptions,
  startPayPalEmulator,
} from '../src/emulators/paypal/index.js';
import { createLogger } from '../src/observability/logger.js';

// biome-ignore lint/suspicious/noExplicitAny: tests read PayPal's JSON field by field, as a client does
export type Wire = Record<string, any>;

export interface PayPalReply<T = Wire> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface PayPalHarness {
  emulator: PayPalEmulator;
  clock: AdjustableClock;
  token(clientId?: string, secret?: string): Promise<string>;
  call<T = Wire>(
    method: string,
    path: string,
    options?: { body?: unknown; token?: string | null; requestId?: string; headers?: Record<string, string> },
  ): Promise<PayPalReply<T>>;
  control<T = Wire>(method: string, path: string, body?: unknown): Promise<PayPalReply<T>>;
  state(types?: string): Promise<Wire>;
}

export const CLIENT_ID = 'sandbox-suite-client';
export const CLIENT_SECRET = 'sandbox-suite-secret';

export function tempDataDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'paypal-emulator-'));
}

async function request<T>(url: string, init: RequestInit): Promise<PayPalReply<T>> {
  const response = await fetch(url, { ...init, redirect: 'manual' });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (the approval page, a certificate); the text is there.
  }
  return { status: response.status, headers: response.headers, body: body as T, text };
}

export async function startPayPalHarness(
  options: Partial<PayPalEmulatorOptions> = {},
  clock = new AdjustableClock(),
): Promise<PayPalHarness> {
  const emulator = await startPayPalEmulator({
    port: 0,
    clock,
    logger: createLogger({ level: 'silent' }),
    reportingDelaySeconds: 0,
    ...options,
  });
  const tokens = new Map<string, string>();
  const token = async (clientId = CLIENT_ID, secret = CLIENT_SECRET) => {
    const reply = await request<{ access_token: string }>(`${emulator.url}/v1/oauth2/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    if (reply.status !== 200) throw new Error(`token: ${reply.status} ${reply.text}`);
    return reply.body.access_token;
  };
  const harness: PayPalHarness = {
    emulator,
    clock,
    token,
    async call(method, path, options = {}) {
      let bearer = options.token;
      if (bearer === undefined) {
        bearer = tokens.get(CLIENT_ID) ?? (await token());
        tokens.set(CLIENT_ID, bearer);
      }
      const headers: Record<string, string> = { ...(options.headers ?? {}) };
      if (bearer) headers.authorization = `Bearer ${bearer}`;
      if (options.requestId) headers['paypal-request-id'] = options.requestId;
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      return request(`${emulator.url}${path}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
    },
    control(method, path, body) {
      return request(`${emulator.url}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    },
    async state(types) {
      return (await harness.control('GET', `/_emulator/state${types ? `?types=${types}` : ''}`)).body;
    },
  };
  return harness;
}

export const order = (value = '10.00', currency = 'USD', extra: Record<string, unknown> = {}) => ({
  intent: 'CAPTURE',
  purchase_units: [
    { reference_id: 'default', custom_id: 'attempt-1', amount: { currency_code: currency, value } },
  ],
  ...extra,
});

export const card = (number: string) => ({
  card: { number, expiry: '2030-12', security_code: '123', name: 'Sandbox Payer' },
});

export const paypalWallet = {
  paypal: {
    experience_context: {
      return_url: 'https://shop.example/return',
      cancel_url: 'https://shop.example/cancel',
    },
  },
};
