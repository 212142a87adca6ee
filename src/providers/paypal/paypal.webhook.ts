// Owns verifying inbound PayPal webhooks locally, before anything is written (DESIGN section 7): the
// signature is SHA256withRSA over `transmission id|transmission time|webhook id|crc32(raw body)` with
// the key of the certificate at `paypal-cert-url`. That URL comes from the request, so its host must be
// PayPal's own (https) or one the operator allowed (PAYPAL_CERT_HOSTS; loopback emulators may use
// http); the certificate must parse and be within its dates; the transmission time must be recent on
// our Clock. Certificates are cached by URL (bounded) so a burst of events fetches one once.
import { verify, X509Certificate } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { Clock } from '../../clock.js';
import { type ProviderEvent, WebhookVerificationError } from '../provider.js';
import type { PayPalWebhookEvent } from './paypal.types.js';

/** PayPal's API hosts, the only ones a certificate is fetched from without configuration. */
export const PAYPAL_CERT_HOSTS: readonly string[] = [
  'api.paypal.com',
  'api-m.paypal.com',
  'api.sandbox.paypal.com',
  'api-m.sandbox.paypal.com',
];
/** Like Stripe's tolerance: an older transmission is refused as a possible replay. */
export const TRANSMISSION_TOLERANCE_SECONDS = 300;
/** Clocks drift; a transmission this far in our future is still believed. */
const FUTURE_SKEW_SECONDS = 60;
const CERT_MAX_BYTES = 16_384;
const CERT_FETCH_TIMEOUT_MS = 3_000;
const CERT_CACHE_MAX = 32;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export interface PayPalWebhookOptions {
  /** PAYPAL_WEBHOOK_ID: part of what PayPal signs, so an event for another webhook never verifies. */
  webhookId: string | undefined;
  /** Extra hosts (`host` or `host:port`) certificates may come from: PAYPAL_CERT_HOSTS and emulators. */
  extraCertHosts: readonly string[];
  clock: Clock;
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string) {
  const found = Object.entries(headers).find(([key]) => key.toLowerCase() === name);
  const value = found?.[1];
  return Array.isArray(value) ? value[0] : value;
}

function refuse(message: string): never {
  throw new WebhookVerificationError(`PayPal webhook refused: ${message}`);
}

/** Whether a certificate may be fetched from `raw`; the reason when not. */
export function certUrlProblem(raw: string, extraHosts: readonly string[]): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'paypal-cert-url is not a URL';
  }
  if (url.username || url.password) return 'paypal-cert-url carries credentials';
  const hostname = url.hostname.toLowerCase();
  if (url.protocol === 'https:' && url.port === '' && PAYPAL_CERT_HOSTS.includes(hostname)) return null;
  const allowed = extraHosts.map((host) => host.toLowerCase());
  if (!allowed.includes(url.host.toLowerCase()) && !allowed.includes(hostname)) {
    return `paypal-cert-url host ${url.host} is not PayPal's nor in PAYPAL_CERT_HOSTS`;
  }
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && LOOPBACK.has(hostname)) return null;
  return 'paypal-cert-url must be https (http only on loopback)';
}

export function toProviderEvent(event: PayPalWebhookEvent, payload: unknown): ProviderEvent {
  const resource = (event.resource ?? {}) as {
    id?: unknown;
    supplementary_data?: { related_ids?: { order_id?: unknown } };
  };
  const type = event.event_type ?? '';
  const related = resource.supplementary_data?.related_ids?.order_id;
  const orderId =
    typeof related === 'string'
      ? related
      : type.startsWith('CHECKOUT.ORDER.') && typeof resource.id === 'string'
        ? resource.id
        : undefined;
  const created = event.create_time ? new Date(event.create_time) : undefined;
  return {
    providerEventId: event.id ?? '',
    type,
    providerPaymentId: orderId,
    occurredAt: created && !Number.isNaN(created.getTime()) ? created : new Date(0),
    payload,
  };
}

export class PayPalWebhookVerifier {
  private readonly certs = new Map<string, Promise<X509Certificate>>();

  constructor(private readonly options: PayPalWebhookOptions) {}

  async verify(
    rawBody: Buffer,
    headers: Record<string, string | string[] | undefined>,
  ): Promise<ProviderEvent> {
    const webhookId = this.options.webhookId;
    if (!webhookId) refuse('no PAYPAL_WEBHOOK_ID is configured');
    const transmissionId = headerValue(headers, 'paypal-transmission-id');
    const transmissionTime = headerValue(headers, 'paypal-transmission-time');
    const signature = headerValue(headers, 'paypal-transmission-sig');
    const certUrl = headerValue(headers, 'paypal-cert-url');
    const algorithm = headerValue(headers, 'paypal-auth-algo');
    if (!transmissionId || !transmissionTime || !signature || !certUrl || !algorithm) {
      refuse('missing PayPal-Transmission-* / PayPal-Cert-Url / PayPal-Auth-Algo headers');
    }
    if (algorithm !== 'SHA256withRSA') refuse(`unsupported paypal-auth-algo ${algorithm}`);

    const sentAt = Date.parse(transmissionTime);
    if (Number.isNaN(sentAt)) refuse('paypal-transmission-time is not a time');
    const ageSeconds = (this.options.clock.now().getTime() - sentAt) / 1000;
    if (ageSeconds > TRANSMISSION_TOLERANCE_SECONDS) {
      refuse(`transmitted ${Math.round(ageSeconds)} s ago (tolerance ${TRANSMISSION_TOLERANCE_SECONDS} s)`);
    }
    if (ageSeconds < -FUTURE_SKEW_SECONDS) refuse('paypal-transmission-time is in the future');

    const problem = certUrlProblem(certUrl, this.options.extraCertHosts);
    if (problem) refuse(problem);
    const cert = await this.certificate(certUrl);
    const now = this.options.clock.now().getTime();
    if (now < Date.parse(cert.validFrom) || now > Date.parse(cert.validTo)) {
      refuse(`the certificate at paypal-cert-url is not valid now (${cert.validFrom} - ${cert.validTo})`);
    }

    const signed = `${transmissionId}|${transmissionTime}|${webhookId}|${crc32(rawBody) >>> 0}`;
    let valid = false;
    try {
      valid = verify('sha256', Buffer.from(signed), cert.publicKey, Buffer.from(signature, 'base64'));
    } catch {
      valid = false;
    }
    if (!valid) refuse('signature did not verify');

    let event: PayPalWebhookEvent;
    try {
      event = JSON.parse(rawBody.toString('utf8')) as PayPalWebhookEvent;
    } catch (error) {
      refuse(`unreadable body: ${(error as Error).message}`);
    }
    if (!event || typeof event.id !== 'string' || typeof event.event_type !== 'string') {
      refuse('the body is not a PayPal event (id, event_type)');
    }
    return toProviderEvent(event, event);
  }

  private certificate(url: string): Promise<X509Certificate> {
    const cached = this.certs.get(url);
    if (cached) return cached;
    const loading = fetchCertificate(url);
    if (this.certs.size >= CERT_CACHE_MAX) {
      const oldest = this.certs.keys().next().value;
      if (oldest !== undefined) this.certs.delete(oldest);
    }
    this.certs.set(url, loading);
    // A failed fetch is not remembered: the next delivery tries again.
    loading.catch(() => this.certs.delete(url));
    return loading;
  }
}

/** Reads at most `max` bytes of a body; a longer one is refused without buffering the rest. */
async function readBounded(response: Response, max: number): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      refuse('the certificate is too large');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function fetchCertificate(url: string): Promise<X509Certificate> {
  let text: string;
  try {
    const response = await fetch(url, {
      redirect: 'error',
      signal: AbortSignal.timeout(CERT_FETCH_TIMEOUT_MS),
    });
    if (!response.ok) {
      await response.body?.cancel();
      refuse(`fetching the certificate answered ${response.status}`);
    }
    text = await readBounded(response, CERT_MAX_BYTES);
  } catch (error) {
    if (error instanceof WebhookVerificationError) throw error;
    refuse(`the certificate could not be fetched: ${(error as Error).message}`);
  }
  try {
    return new X509Certificate(text);
  } catch {
    refuse('paypal-cert-url does not hold a PEM certificate');
  }
}
