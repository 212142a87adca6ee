// Inbound PayPal webhooks through the running service: the embedded PayPal emulator posts its signed
// deliveries to POST /webhooks/paypal, which verifies them locally (certificate from an allowlisted
// host, SHA256withRSA over id|time|webhook id|crc32, transmission time) before anything is stored.
// A delivery that does not verify is a 400, writes nothing and reaches no handler; a verified one is
// stored in the inbox and reaches the handlers through the processing job, once however often it comes.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../src/emulators/paypal/certificate.js';
import { paypalSignatureHeaders } from '../src/emulators/paypal/index.js';
import type { ProviderEvent } from '../src/providers/provider.js';
import { EMBEDDED_PAYPAL_WEBHOOK_ID } from '../src/providers/registry.js';
import { inboxRows, inboxSettled, writeCounts } from './support/inbox.js';
import { startTestService, type TestService } from './support/service.js';
import { waitFor } from './support/wait.js';

interface Delivery {
  headers: Record<string, string>;
  body: string;
}

let t: TestService;
const handled: ProviderEvent[] = [];
// Our own signing key and certificate on an allowed loopback host, to sign deliveries at any time.
let privateKey: KeyObject;
let certServer: Server;
let certUrl: string;
beforeAll(async () => {
  ({ privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 }));
  const pem = selfSignedCertificate(privateKey, 'suite', new Date(Date.now() - 86_400_000));
  certServer = createServer((_request, response) => response.end(pem));
  await new Promise<void>((resolve) => certServer.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(certServer.address() as { port: number }).port}`;
  certUrl = `http://${host}/cert.pem`;
  t = await startTestService({ env: { PAYPAL_CERT_HOSTS: host } });
  // Stands in for the payments module's PayPal handlers (not written yet): records what reaches it.
  t.service.services.webhooks.register({
    types: ['PAYMENT.', 'CHECKOUT.'],
    async handle(provider, event) {
      if (provider === 'paypal') handled.push(event);
    },
  });
});
afterAll(async () => {
  await t.close();
  await new Promise<void>((resolve) => certServer.close(() => resolve()));
});

/** A delivery signed by this suite's key for the embedded webhook id, transmitted at `at`. */
function signedAt(body: string, at: Date): Delivery {
  const time = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    body,
    headers: paypalSignatureHeaders(body, EMBEDDED_PAYPAL_WEBHOOK_ID, { privateKey, certUrl }, time),
  };
}

const context = () => ({
  attemptId: `att_wh_${Math.random().toString(36).slice(2)}`,
  livemode: false,
  merchantId: t.merchantId,
  paymentIntentId: 'pi_wh',
});

/** A card payment through the service's own connector: the emulator emits PAYMENT.CAPTURE.COMPLETED. */
async function pay(): Promise<string> {
  const paypal = t.service.providers.paypal!;
  const ctx = context();
  const created = await paypal.createPayment({
    ...ctx,
    amount: 1500,
    currency: 'eur',
    captureMethod: 'automatic',
  });
  if ('status' in created) throw new Error(`create failed: ${JSON.stringify(created)}`);
  const card = {
    number: '4242424242424242',
    expMonth: 12,
    expYear: new Date().getFullYear() + 1,
    cvc: '123',
  };
  const outcome = await paypal.confirm(
    ctx,
    created.providerPaymentId,
    { kind: 'card', card },
    `${t.url}/return/x`,
  );
  expect(outcome.status).toBe('succeeded');
  return created.providerPaymentId;
}

/** Points the emulator at a capture server for one payment and returns what it would have delivered. */
async function captured(webhookId: string): Promise<Delivery & { orderId: string }> {
  const deliveries: Delivery[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      deliveries.push({ headers: flat(request.headers), body: Buffer.concat(chunks).toString('utf8') });
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const emulator = t.service.providers.emulators.paypal!;
  try {
    const { port } = server.address() as { port: number };
    emulator.setWebhookTarget({ url: `http://127.0.0.1:${port}/hook`, secret: webhookId });
    const orderId = await pay();
    const delivery = await waitFor('a PAYMENT.CAPTURE.COMPLETED delivery', () =>
      deliveries.find((d) => d.body.includes('PAYMENT.CAPTURE.COMPLETED') && d.body.includes(orderId)),
    );
    return { ...delivery, orderId };
  } finally {
    emulator.setWebhookTarget({ url: `${t.url}/webhooks/paypal`, secret: EMBEDDED_PAYPAL_WEBHOOK_ID });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function flat(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) if (typeof value === 'string') out[key] = value;
  return out;
}

async function deliver(delivery: Delivery) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const [key, value] of Object.entries(delivery.headers))
    if (key.startsWith('paypal-')) headers[key] = value;
  const reply = await fetch(`${t.url}/webhooks/paypal`, { method: 'POST', headers, body: delivery.body });
  return { status: reply.status, body: (await reply.json()) as Record<string, unknown> };
}

async function metric(outcome: string): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('webhooks_received_total{') &&
        l.includes('provider="paypal"') &&
        l.includes(`outcome="${outcome}"`),
    );
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('POST /webhooks/paypal', () => {
  it("accepts the emulator's own signed deliveries and hands them on with the order id", async () => {
    const orderId = await pay();
    const event = await waitFor('the capture event at the handler', () =>
      handled.find((e) => e.type === 'PAYMENT.CAPTURE.COMPLETED' && e.providerPaymentId === orderId),
    );
    expect(event.providerEventId).toMatch(/^WH-/);
    expect(event.occurredAt.getTime()).toBeGreaterThan(0);
    expect(await metric('accepted')).toBeGreaterThan(0);
  });

  it('accepts a captured genuine delivery replayed within the tolerance (200); it is handled once however often it comes', async () => {
    const delivery = await captured(EMBEDDED_PAYPAL_WEBHOOK_ID);
    const eventId = (JSON.parse(delivery.body) as { id: string }).id;
    const before = handled.length;
    const reply = await deliver(delivery);
    expect(reply).toMatchObject({ status: 200, body: { received: true, id: eventId, duplicate: false } });
    await waitFor('the handler to see the event', () => handled.length === before + 1);
    expect(handled.at(-1)).toMatchObject({
      type: 'PAYMENT.CAPTURE.COMPLETED',
      providerPaymentId: delivery.orderId,
    });
    const again = await Promise.all([deliver(delivery), deliver(delivery)]);
    for (const answer of again) expect(answer.body).toMatchObject({ received: true, duplicate: true });
    await inboxSettled(t);
    expect(handled.length).toBe(before + 1);
    const rows = await inboxRows(t, [eventId]);
    expect(rows.map((row) => [row.provider, row.status, row.subject])).toEqual([
      ['paypal', 'processed', delivery.orderId],
    ]);
    expect(await metric('duplicate')).toBeGreaterThanOrEqual(2);
  });

  it('refuses a tampered body, another webhook id, a foreign certificate host and missing headers with 400; nothing is written or reaches a handler', async () => {
    const genuine = await captured(EMBEDDED_PAYPAL_WEBHOOK_ID);
    const otherWebhook = await captured('WH-SOMEONE-ELSES-WEBHOOK');
    await inboxSettled(t);
    const written = await writeCounts(t);
    const before = handled.length;
    const refusedBefore = await metric('signature_invalid');
    const cases: [string, Delivery, RegExp][] = [
      [
        'tampered body',
        { ...genuine, body: genuine.body.replace('COMPLETED', 'DENIED') },
        /signature did not verify/,
      ],
      ['another webhook id', otherWebhook, /signature did not verify/],
      [
        'a certificate on a host not allowed',
        {
          ...genuine,
          headers: { ...genuine.headers, 'paypal-cert-url': 'https://certs.attacker.example/cert.pem' },
        },
        /not PayPal's nor in PAYPAL_CERT_HOSTS/,
      ],
      [
        'an http certificate on a PayPal-looking host',
        {
          ...genuine,
          headers: {
            ...genuine.headers,
            'paypal-cert-url': 'http://api.paypal.com/v1/notifications/certs/CERT-x',
          },
        },
        /not PayPal's nor in PAYPAL_CERT_HOSTS/,
      ],
      [
        'another algorithm',
        { ...genuine, headers: { ...genuine.headers, 'paypal-auth-algo': 'SHA1withRSA' } },
        /unsupported paypal-auth-algo/,
      ],
      ['no headers', { headers: {}, body: genuine.body }, /missing/],
    ];
    for (const [what, delivery, reason] of cases) {
      const reply = await deliver(delivery);
      expect({ what, status: reply.status }).toEqual({ what, status: 400 });
      expect(reply.body).toMatchObject({
        error: { code: 'webhook_signature_invalid', message: expect.stringMatching(reason) },
      });
    }
    expect(handled.length).toBe(before);
    expect(await writeCounts(t)).toEqual(written);
    expect(await metric('signature_invalid')).toBe(refusedBefore + cases.length);
    // The genuine one still verifies.
    expect((await deliver(genuine)).status).toBe(200);
  });

  it('refuses a transmission older than 300 s on the service clock', async () => {
    const delivery = await captured(EMBEDDED_PAYPAL_WEBHOOK_ID);
    await inboxSettled(t);
    const written = await writeCounts(t);
    const before = handled.length;
    const moved = await t.api.post('/_test/clock', { advance_seconds: 301 });
    expect(moved.status).toBe(200);
    const reply = await deliver(delivery);
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ error: { message: expect.stringMatching(/transmitted 30\d s ago/) } });
    expect(handled.length).toBe(before);
    expect(await writeCounts(t)).toEqual(written);
  });

  it('refuses a transmission dated in the future beyond the skew, writing nothing', async () => {
    await inboxSettled(t);
    const written = await writeCounts(t);
    const body = JSON.stringify({
      id: 'WH-SUITE-FUTURE',
      event_type: 'PAYMENT.CAPTURE.COMPLETED',
      create_time: new Date().toISOString(),
      resource: { id: 'CAP-SUITE', supplementary_data: { related_ids: { order_id: 'ORDER-NOT-OURS' } } },
    });
    const now = t.service.clock.now().getTime();
    const reply = await deliver(signedAt(body, new Date(now + 600_000)));
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({
      error: { code: 'webhook_signature_invalid', message: expect.stringMatching(/in the future/) },
    });
    expect(await writeCounts(t)).toEqual(written);
    // The same event signed now is stored (the key and certificate are good).
    const good = await deliver(signedAt(body, new Date(now)));
    expect(good, JSON.stringify(good.body)).toMatchObject({
      status: 200,
      body: { id: 'WH-SUITE-FUTURE', duplicate: false },
    });
  });
});
