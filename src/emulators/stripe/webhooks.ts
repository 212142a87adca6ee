// Owns Stripe's webhook signature: `Stripe-Signature: t=<ts>,v1=<hex HMAC-SHA256 of "<ts>.<body>">`
// keyed with the whole secret string, exactly what stripe.webhooks.constructEvent verifies. The
// timestamp comes from the emulator's clock, which in embedded mode is the service's own clock.
import { createHmac } from 'node:crypto';
import { type Clock, unixSeconds } from '../../clock.js';

export function stripeSignatureHeader(body: string, secret: string, timestamp: number): string {
  const signature = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${signature}`;
}

export function stripeSigner(clock: Clock) {
  return (body: string, secret: string): Record<string, string> => ({
    'Stripe-Signature': stripeSignatureHeader(body, secret, unixSeconds(clock.now())),
  });
}

export const STRIPE_WEBHOOK_USER_AGENT = 'Stripe/1.0 (+https://stripe.com/docs/webhooks)';
