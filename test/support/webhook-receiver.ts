// A webhook receiver on 127.0.0.1 for outbound delivery tests. Every delivery is verified on arrival
// with both libraries merchants use, the `standardwebhooks` package and `stripe.webhooks.constructEvent`,
// against each secret the test says is valid, at the service's own (test) clock time.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { startTestService, type TestService } from './service.js';

const stripe = new Stripe('sk_test_unused');

export interface Received {
  id: string;
  timestamp: number;
  headers: IncomingHttpHeaders;
  body: string;
  event: { id: string; type: string; data: { object: Record<string, unknown> } };
  /** Real time it arrived, and the service-clock time it was verified at. */
  receivedAt: number;
  clockAt: number;
  /** The status this receiver answered. */
  answered: number;
  /** Per secret given to `verifyWith`: did each library accept the delivery with it? */
  verified: { secret: string; standard: boolean; stripe: boolean }[];
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Hold the response this long (ms) or forever (`'hang'`). */
  delayMs?: number | 'hang';
}

/** Runs `fn` with Date.now() at `ms`: the libraries check the timestamp against the receiver's clock. */
function atTime<T>(ms: number, fn: () => T): T {
  const real = Date.now;
  Date.now = () => ms;
  try {
    return fn();
  } finally {
    Date.now = real;
  }
}

function verifies(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Decides each answer (default 200). */
  respond: (delivery: Received) => Reply;
  /** Secrets to verify with (the endpoint's, or both during a rotation). */
  verifyWith: string[];
  distinctIds(): Set<string>;
  close(): Promise<void>;
}

/** `now` gives the service clock's time in ms (the receiver's clock agrees with the service's). */
export async function startReceiver(now: () => number, path = '/hooks'): Promise<Receiver> {
  const hanging = new Set<() => void>();
  const receiver: Receiver = {
    url: '',
    received: [],
    respond: () => ({ status: 200 }),
    verifyWith: [],
    distinctIds: () => new Set(receiver.received.map((r) => r.id)),
    close: async () => {
      hanging.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = request.headers;
      const clockAt = now();
      const flat = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)]));
      const verified = receiver.verifyWith.map((secret) => ({
        secret,
        standard: atTime(clockAt, () => verifies(() => new Webhook(secret).verify(body, flat))),
        stripe: atTime(clockAt, () =>
          verifies(() => stripe.webhooks.constructEvent(body, String(headers['stripe-signature']), secret)),
        ),
      }));
      const delivery: Received = {
        id: String(headers['webhook-id']),
        timestamp: Number(headers['webhook-timestamp']),
        headers,
        body,
        event: JSON.parse(body),
        receivedAt: Date.now(),
        clockAt,
        answered: 0,
        verified,
      };
      const reply = receiver.respond(delivery);
      delivery.answered = reply.status;
      receiver.received.push(delivery);
      const send = () => {
        response.writeHead(reply.status, { 'content-type': 'text/plain', ...reply.headers });
        response.end(reply.body ?? 'ok');
      };
      if (reply.delayMs === 'hang') hanging.add(send);
      else if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  return receiver;
}

/** A test service allowed to deliver to loopback (with `env` besides), and a receiver whose clock is the service's. */
export async function startWebhookHarness(env: Record<string, string> = {}): Promise<{
  t: TestService;
  receiver: Receiver;
  close(): Promise<void>;
}> {
  const t = await startTestService({ env: { ALLOW_PRIVATE_WEBHOOK_URLS: 'true', ...env } });
  const receiver = await startReceiver(() => t.service.clock.now().getTime());
  return {
    t,
    receiver,
    async close() {
      await receiver.close();
      await t.close();
    },
  };
}
