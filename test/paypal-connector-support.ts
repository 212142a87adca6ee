// Shared by the PayPal connector suites: a PayPal emulator on loopback, a connector pointed at it over
// HTTP, fresh attempt contexts, the emulator's control API, and what it holds for one order.
import { randomUUID } from 'node:crypto';
import { AdjustableClock } from '../src/clock.js';
import { type PayPalEmulator, startPayPalEmulator } from '../src/emulators/paypal/index.js';
import { createLogger } from '../src/observability/logger.js';
import { PayPalProvider, type PayPalProviderOptions } from '../src/providers/paypal/paypal.provider.js';
import type { AttemptContext, CardData, CreatePaymentRequest } from '../src/providers/provider.js';
import { Api } from './support/http.js';

export const CLIENT_ID = 'connector-suite-client';
export const CLIENT_SECRET = 'connector-suite-secret';

export interface PayPalHarness {
  emulator: PayPalEmulator;
  clock: AdjustableClock;
  control: Api;
  state<T = PayPalState>(types?: string): Promise<T>;
  fault(body: Record<string, unknown>): Promise<void>;
  connector(options?: Partial<PayPalProviderOptions>): PayPalProvider;
}

export interface WireRecord {
  id: string;
  account: string;
  [key: string]: unknown;
}

export interface PayPalState {
  counts: Record<string, number>;
  orders: WireRecord[];
  captures: WireRecord[];
  authorizations: WireRecord[];
  refunds: WireRecord[];
  events: WireRecord[];
}

export async function startPayPalHarness(): Promise<PayPalHarness> {
  const clock = new AdjustableClock();
  const emulator = await startPayPalEmulator({
    port: 0,
    clock,
    logger: createLogger({ level: 'silent' }),
  });
  const control = new Api(emulator.url);
  return {
    emulator,
    clock,
    control,
    async state<T>(types?: string) {
      return (await control.get<T>('/_emulator/state', types ? { types } : undefined)).body;
    },
    async fault(body) {
      const reply = await control.post('/_emulator/faults', body, { as: 'json' });
      if (reply.status !== 200) throw new Error(`fault not set: ${reply.text}`);
    },
    connector(options = {}) {
      return new PayPalProvider({
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        apiBase: emulator.url,
        timeoutMs: 5_000,
        livemode: false,
        merchantId: 'CONNECTORSUITE',
        clock,
        ...options,
      });
    },
  };
}

export function attempt(): AttemptContext {
  return {
    attemptId: `att_${randomUUID().replaceAll('-', '')}`,
    livemode: false,
    merchantId: 'mer_paypal_connector_suite',
    paymentIntentId: `pi_ours_${randomUUID().replaceAll('-', '')}`,
  };
}

export function paymentRequest(
  context: AttemptContext,
  extra: Partial<CreatePaymentRequest> = {},
): CreatePaymentRequest {
  return { ...context, amount: 1000, currency: 'usd', captureMethod: 'automatic', ...extra };
}

export function card(number: string): { kind: 'card'; card: CardData } {
  return { kind: 'card', card: { number, expMonth: 12, expYear: new Date().getFullYear() + 2, cvc: '123' } };
}

export const RETURN_URL = 'http://127.0.0.1:9/return/att_x';

/** Creates the order for a fresh attempt and returns both. */
export async function created(
  paypal: PayPalProvider,
  extra: Partial<CreatePaymentRequest> = {},
): Promise<{ context: AttemptContext; id: string }> {
  const context = attempt();
  const result = await paypal.createPayment(paymentRequest(context, extra));
  if ('status' in result) throw new Error(`create failed: ${JSON.stringify(result)}`);
  return { context, id: result.providerPaymentId };
}

export async function capturesFor(h: PayPalHarness, orderId: string): Promise<WireRecord[]> {
  const state = await h.state('captures');
  return state.captures.filter(
    (capture) =>
      (capture['supplementary_data'] as { related_ids?: { order_id?: string } })?.related_ids?.order_id ===
      orderId,
  );
}

/** The shopper at the emulator's approval page: `action=approve|fail`, the redirect not followed. */
export async function shopper(redirectUrl: string, action: 'approve' | 'fail'): Promise<number> {
  const url = new URL(redirectUrl);
  url.searchParams.set('action', action);
  const response = await fetch(url, { redirect: 'manual' });
  await response.arrayBuffer();
  return response.status;
}
