// Owns verifying inbound Stripe webhooks. The SDK checks `Stripe-Signature` (v1 HMAC-SHA256 over
// "<t>.<raw body>", compared in constant time; v0 and other schemes are ignored) and the timestamp
// tolerance; we try each configured secret in turn so secrets can be rotated with an overlap. The SDK
// only refuses old timestamps: one in the future passes its check, so a signature captured (or made
// with a leaked secret) for a later time would replay for as long as it pleased; we refuse those.
import Stripe from 'stripe';
import type { Clock } from '../../clock.js';
import { type ProviderEvent, WebhookVerificationError } from '../provider.js';
import { toProviderEvent } from './stripe.transformers.js';

/** Stripe's own default: an event signed more than five minutes ago is refused as a possible replay. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;
/** Clocks drift; a timestamp this far in our future is still believed (as PayPal's FUTURE_SKEW_SECONDS). */
export const FUTURE_SKEW_SECONDS = 60;

// One error class for every provider's webhook verification, so the inbound routes check one type.
export { WebhookVerificationError };

function headerValue(headers: Record<string, string | string[] | undefined>, name: string) {
  const found = Object.entries(headers).find(([key]) => key.toLowerCase() === name);
  const value = found?.[1];
  return Array.isArray(value) ? value[0] : value;
}

/** The `t=` of a Stripe-Signature header (the SDK reads it the same way: the last `t` wins). */
function signedAt(header: string): number | undefined {
  let timestamp: number | undefined;
  for (const item of header.split(',')) {
    const [key, value] = item.split('=');
    if (key === 't') timestamp = Number.parseInt(value ?? '', 10);
  }
  return timestamp !== undefined && Number.isFinite(timestamp) ? timestamp : undefined;
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
  const timestamp = signedAt(signature);
  if (timestamp !== undefined && timestamp - clock.now().getTime() / 1000 > FUTURE_SKEW_SECONDS) {
    throw new WebhookVerificationError('Stripe webhook refused: the signature timestamp is in the future');
  }
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
