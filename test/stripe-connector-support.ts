// Shared by the Stripe connector suites: a connector pointed at a standalone emulator over HTTP, fresh
// attempt contexts, and the charges the emulator holds for one payment intent.
import { randomUUID } from 'node:crypto';
import { systemClock } from '../src/clock.js';
import type { AttemptContext, CardData, CreatePaymentRequest } from '../src/providers/provider.js';
import { StripeProvider, type StripeProviderOptions } from '../src/providers/stripe/stripe.provider.js';
import type { EmulatorHarness } from './emulator-support.js';

export const CONNECTOR_KEY = 'sk_test_connector_suite';

export function connector(h: EmulatorHarness, options: Partial<StripeProviderOptions> = {}): StripeProvider {
  return new StripeProvider({
    secretKey: CONNECTOR_KEY,
    apiBase: h.emulator.url,
    timeoutMs: 5_000,
    webhookSecrets: [],
    clock: systemClock,
    ...options,
  });
}

export function attempt(): AttemptContext {
  return {
    attemptId: `att_${randomUUID().replaceAll('-', '')}`,
    livemode: false,
    merchantId: 'mer_connector_suite',
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

/** Creates the provider object for a fresh attempt and returns both. */
export async function created(
  stripe: StripeProvider,
  extra: Partial<CreatePaymentRequest> = {},
): Promise<{ context: AttemptContext; id: string }> {
  const context = attempt();
  const result = await stripe.createPayment(paymentRequest(context, extra));
  if ('status' in result) throw new Error(`create failed: ${JSON.stringify(result)}`);
  return { context, id: result.providerPaymentId };
}

export async function chargesFor(h: EmulatorHarness, paymentIntentId: string) {
  const state = await h.state('charges');
  return state.charges.filter((charge) => charge['payment_intent'] === paymentIntentId);
}
