// Signs an outbound delivery two ways so receivers can verify with either library (DESIGN section 7):
// Standard Webhooks (`webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed with the
// base64-decoded part after `whsec_`) and Stripe (`Stripe-Signature: t=..,v1=<hex HMAC-SHA256 of
// "t.body">`, keyed with the whole secret string). During a rotation overlap each header carries one
// signature per valid secret.
import { createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';

export function generateEndpointSecret(): string {
  return `${PREFIX}${randomBytes(32).toString('base64')}`;
}

function standardKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');
}

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
  'stripe-signature': string;
}

/** `secrets`: every secret valid at `timestamp` (the current one first). */
export function signDelivery(
  id: string,
  timestamp: number,
  body: string,
  secrets: readonly string[],
): SignedHeaders {
  const standard = secrets.map(
    (secret) =>
      `v1,${createHmac('sha256', standardKey(secret)).update(`${id}.${timestamp}.${body}`).digest('base64')}`,
  );
  const stripe = secrets.map(
    (secret) => `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`,
  );
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': standard.join(' '),
    'stripe-signature': [`t=${timestamp}`, ...stripe].join(','),
  };
}
