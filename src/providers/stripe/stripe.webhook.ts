// Owns verifying inbound Stripe webhooks. The SDK checks `Stripe-Signature` (v1 HMAC-SHA256 over
// "<t>.<raw body>", compared in constant time; v0 and other schemes are ignored) and the timestamp
// tolerance; we try each configured secret in turn so secrets can be rotated with an overlap.
import Stripe from 'stripe';
import type { Clock } from '../../clock.js';
import { type ProviderEvent, WebhookVerificationError } from '../provider.js';
import { toProviderEvent } from './stripe.transformers.js';

/** Stripe's own default: an event signed more than five minutes ago is refused as a possible replay. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

// One error class for every provider's webhook verification, so the inbound routes check one type.
export { WebhookVerificationError };

function headerValue(headers: Record<string, string | string[] | undefined>, name: string) {
  const found = Object.entries(headers).find(([key]) => key.toLowerCase() === name);
  const value = found?.[1];
  return Array.isArray(value) ? value[0] : value;
}

export function verifyStripeWebhook(
  rawBody: Buffer,
  headers: Record<string, string | string[] | undefined>,
  secrets: readonly string[],
  clock: Clock,
): ProviderEvent {
  const signature = headerValue(headers, 'stripe-signature');
  if (!signature) throw new WebhookVerificationError('missing Stripe-Signature header');
  if (secrets.length === 0) throw new WebhookVerificationError('no Stripe webhook secret is configured');
  let lastMessage = 'signature did not verify';
  for (const secret of secrets) {
    try {
      const event = Stripe.webhooks.constructEvent(
        rawBody,
        signature,
        secret,
        WEBHOOK_TOLERANCE_SECONDS,
        undefined,
        clock.now().getTime(),
      );
      return toProviderEvent(event as Stripe.Event);
    } catch (error) {
      if (!(error instanceof Stripe.errors.StripeSignatureVerificationError)) {
        throw new WebhookVerificationError(`unreadable webhook body: ${(error as Error).message}`);
      }
      // Only the first line: the SDK appends advice meant for integrators, not for our logs.
      lastMessage = error.message.split('\n', 1)[0]!.trim();
    }
  }
  throw new WebhookVerificationError(`Stripe webhook refused: ${lastMessage}`);
}
