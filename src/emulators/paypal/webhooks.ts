// Owns PayPal's webhook format and signature. The event is `{ id: 'WH-...', event_version, create_time,
// resource_type, resource_version, event_type, summary, resource, links }`; each delivery attempt is
// signed as PayPal signs: `paypal-transmission-sig` is base64 RSA-SHA256 over
// `<transmission id>|<transmission time>|<webhook id>|<CRC32 of the body bytes, unsigned decimal>`,
// checkable with the certificate at `paypal-cert-url`. The webhook id is the target's `secret`.
import { createVerify, type KeyObject, randomUUID, sign, X509Certificate } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { Clock } from '../../clock.js';
import { randomToken } from '../shared/random-id.js';
import { isoTime } from './store.js';

export const PAYPAL_WEBHOOK_USER_AGENT = 'PayPal/AUHD-214.0-58844350';

export interface WebhookSigner {
  privateKey: KeyObject;
  certUrl: string;
}

export function signedMessage(
  transmissionId: string,
  transmissionTime: string,
  webhookId: string,
  body: string,
) {
  return `${transmissionId}|${transmissionTime}|${webhookId}|${crc32(Buffer.from(body, 'utf8'))}`;
}

/** PayPal's five signature headers for one delivery of `body` to the webhook `webhookId`. */
export function paypalSignatureHeaders(
  body: string,
  webhookId: string,
  signer: WebhookSigner,
  transmissionTime: string,
  transmissionId: string = randomUUID(),
): Record<string, string> {
  const signature = sign(
    'sha256',
    Buffer.from(signedMessage(transmissionId, transmissionTime, webhookId, body)),
    signer.privateKey,
  );
  return {
    'paypal-transmission-id': transmissionId,
    'paypal-transmission-time': transmissionTime,
    'paypal-transmission-sig': signature.toString('base64'),
    'paypal-cert-url': signer.certUrl,
    'paypal-auth-algo': 'SHA256withRSA',
  };
}

export function paypalSigner(clock: Clock, signer: () => WebhookSigner) {
  return (body: string, webhookId: string) =>
    paypalSignatureHeaders(body, webhookId, signer(), isoTime(clock.now()));
}

/** Checks a delivery against a PEM certificate, as a receiver (and verify-webhook-signature) does. */
export function verifyPayPalSignature(
  certificatePem: string,
  headers: { transmissionId: string; transmissionTime: string; transmissionSig: string },
  webhookId: string,
  body: string,
): boolean {
  try {
    const cert = new X509Certificate(certificatePem);
    const verifier = createVerify('sha256');
    verifier.update(signedMessage(headers.transmissionId, headers.transmissionTime, webhookId, body));
    return verifier.verify(cert.publicKey, headers.transmissionSig, 'base64');
  } catch {
    return false;
  }
}

export interface EventInput {
  event_type: string;
  resource_type: string;
  resource_version: string;
  summary: string;
  resource: Record<string, unknown>;
}

/** Builds the event JSON; its text is what is signed and delivered, byte for byte. */
export function eventBody(input: EventInput, apiUrl: string, now: Date): { id: string; body: string } {
  const id = `WH-${randomToken(17).toUpperCase()}-${randomToken(17).toUpperCase()}`;
  const event = {
    id,
    event_version: '1.0',
    create_time: isoTime(now),
    resource_type: input.resource_type,
    resource_version: input.resource_version,
    event_type: input.event_type,
    summary: input.summary,
    resource: input.resource,
    links: [
      { href: `${apiUrl}/v1/notifications/webhooks-events/${id}`, rel: 'self', method: 'GET' },
      { href: `${apiUrl}/v1/notifications/webhooks-events/${id}/resend`, rel: 'resend', method: 'POST' },
    ],
  };
  return { id, body: JSON.stringify(event) };
}
