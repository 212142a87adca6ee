// One webhook POST: the URL is checked again on a fresh DNS answer (url-guard.ts) and the socket
// connects to the address that passed, never to a second lookup. Redirects are not followed (a 3xx is
// a failed attempt, as at Stripe). The whole exchange, response body included, has one deadline; at
// most 1 KB of the body is kept for the delivery log and at most 64 KB is read at all.
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { checkWebhookUrl, type HostLookup, UnsafeWebhookUrlError } from './url-guard.js';

const EXCERPT_BYTES = 1024;
const MAX_READ_BYTES = 64 * 1024;

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  livemode: boolean;
  allowPrivate: boolean;
  /** DNS stand-in for tests (a rebinding name); the system resolver otherwise. */
  lookup?: HostLookup;
}

export interface WebhookResponse {
  status: number;
  retryAfter: string | undefined;
  excerpt: string;
  latencyMs: number;
}

export type TransportErrorKind = 'timeout' | 'network' | 'unsafe_url';

export class WebhookTransportError extends Error {
  constructor(
    readonly kind: TransportErrorKind,
    message: string,
    readonly latencyMs: number,
  ) {
    super(message);
    this.name = 'WebhookTransportError';
  }
}

// Keep-alive pools: a receiver taking thousands of deliveries a second should not pay a handshake each.
// A pooled socket stays connected to the address that was checked when it was opened.
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 128, timeout: 30_000 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 128, timeout: 30_000 }),
};

function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  return (_hostname, options, callback) => {
    if ((options as { all?: boolean }).all) {
      (callback as unknown as (error: null, addresses: { address: string; family: number }[]) => void)(null, [
        { address, family },
      ]);
    } else callback(null, address, family);
  };
}

function readExcerpt(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let readBytes = 0;
    const finish = () => resolve(Buffer.concat(kept).toString('utf8'));
    response.on('data', (chunk: Buffer) => {
      readBytes += chunk.length;
      if (keptBytes < EXCERPT_BYTES) {
        const part = chunk.subarray(0, EXCERPT_BYTES - keptBytes);
        kept.push(part);
        keptBytes += part.length;
      }
      if (readBytes >= MAX_READ_BYTES) {
        // Enough: the rest of a large answer is not worth the wait, and the socket is not reused.
        response.destroy();
        finish();
      }
    });
    response.on('end', finish);
    response.on('error', reject);
  });
}

/** Sends one delivery; resolves with any HTTP status, rejects with WebhookTransportError. */
export async function sendWebhook(request: WebhookRequest): Promise<WebhookResponse> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let target: Awaited<ReturnType<typeof checkWebhookUrl>>;
  try {
    target = await checkWebhookUrl(request.url, request);
  } catch (error) {
    if (!(error instanceof UnsafeWebhookUrlError)) throw error;
    // A name that no longer resolves is an outage, worth retrying; an internal address is refused.
    const kind = error.reason === 'unresolvable' ? 'network' : 'unsafe_url';
    throw new WebhookTransportError(kind, error.message, elapsed());
  }
  const { url, address, family } = target;
  const secure = url.protocol === 'https:';
  const client = secure ? https : http;
  const body = Buffer.from(request.body, 'utf8');
  const host = url.hostname.replace(/^\[|\]$/g, '');

  return new Promise<WebhookResponse>((resolve, reject) => {
    let settled = false;
    const fail = (kind: TransportErrorKind, message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      reject(new WebhookTransportError(kind, message, elapsed()));
    };
    const outgoing = client.request({
      method: 'POST',
      protocol: url.protocol,
      hostname: host,
      port: url.port || (secure ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      agent: agents[url.protocol as 'http:' | 'https:'],
      lookup: pinnedLookup(address, family),
      // SNI and certificate checks use the name, although the socket goes to the pinned address.
      ...(secure && !isIP(host) ? { servername: host } : {}),
      headers: { ...request.headers, 'content-length': String(body.length) },
    });
    const deadline = setTimeout(() => {
      fail('timeout', `no complete answer within ${request.timeoutMs} ms`);
      outgoing.destroy();
    }, request.timeoutMs);
    outgoing.on('error', (error) => fail('network', error.message));
    outgoing.on('response', (response) => {
      readExcerpt(response).then(
        (excerpt) => {
          if (settled) return;
          settled = true;
          clearTimeout(deadline);
          const retryAfter = response.headers['retry-after'];
          resolve({
            status: response.statusCode ?? 0,
            retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
            excerpt,
            latencyMs: elapsed(),
          });
        },
        (error: Error) => fail('network', error.message),
      );
    });
    outgoing.end(body);
  });
}
