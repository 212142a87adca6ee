// PayPal webhook verification in the connector, with our own signing key and certificate served on
// loopback: the certificate host allowlist, the certificate's validity dates, the transmission-time
// window on the Clock, one certificate fetch per URL, and the event mapping to the ORDER id.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdjustableClock } from '../src/clock.js';
import { selfSignedCertificate } from '../src/emulators/paypal/certificate.js';
import { paypalSignatureHeaders } from '../src/emulators/paypal/index.js';
import { PayPalProvider } from '../src/providers/paypal/paypal.provider.js';
import { certUrlProblem } from '../src/providers/paypal/paypal.webhook.js';
import { WebhookVerificationError } from '../src/providers/provider.js';

const WEBHOOK_ID = 'WH-CONNECTOR-SUITE';
const clock = new AdjustableClock();
let privateKey: KeyObject;
let server: Server;
let base: string;
let fetches = 0;
const certs = new Map<string, string>();

beforeAll(async () => {
  ({ privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 }));
  certs.set('/good.pem', selfSignedCertificate(privateKey, 'suite', new Date(Date.now() - 86_400_000)));
  certs.set('/later.pem', selfSignedCertificate(privateKey, 'suite', new Date(Date.now() + 86_400_000)));
  certs.set('/junk.pem', 'not a certificate');
  server = createServer((request, response) => {
    fetches++;
    const pem = certs.get(request.url ?? '');
    if (!pem) return response.writeHead(404).end();
    response.end(pem);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function provider(webhookId: string | null = WEBHOOK_ID): PayPalProvider {
  return new PayPalProvider({
    clientId: 'id',
    clientSecret: 'secret',
    apiBase: 'http://127.0.0.1:9',
    livemode: false,
    webhookId: webhookId ?? undefined,
    certHosts: [new URL(base).host],
    clock,
  });
}

function event(type: string, resource: Record<string, unknown>): Buffer {
  return Buffer.from(
    JSON.stringify({ id: 'WH-1', event_type: type, create_time: '2026-01-02T03:04:05Z', resource }),
  );
}

function signed(body: Buffer, path = '/good.pem', at = clock.now(), webhookId = WEBHOOK_ID) {
  const time = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return paypalSignatureHeaders(
    body.toString('utf8'),
    webhookId,
    { privateKey, certUrl: `${base}${path}` },
    time,
  );
}

const CAPTURE = { id: 'CAP1', supplementary_data: { related_ids: { order_id: 'ORDER1' } } };

describe('PayPal webhook verification', () => {
  it('maps a verified capture event to the order id, and an order event to its own id', async () => {
    const paypal = provider();
    const body = event('PAYMENT.CAPTURE.COMPLETED', CAPTURE);
    expect(await paypal.parseWebhook(body, signed(body))).toMatchObject({
      providerEventId: 'WH-1',
      type: 'PAYMENT.CAPTURE.COMPLETED',
      providerPaymentId: 'ORDER1',
      occurredAt: new Date('2026-01-02T03:04:05Z'),
    });
    const order = event('CHECKOUT.ORDER.APPROVED', { id: 'ORDER2' });
    expect((await paypal.parseWebhook(order, signed(order))).providerPaymentId).toBe('ORDER2');
    const dispute = event('CUSTOMER.DISPUTE.CREATED', { dispute_id: 'PP-D-1' });
    expect((await paypal.parseWebhook(dispute, signed(dispute))).providerPaymentId).toBeUndefined();
  });

  it('fetches a certificate once per URL', async () => {
    const paypal = provider();
    const before = fetches;
    for (let i = 0; i < 3; i++) {
      const body = event('PAYMENT.CAPTURE.COMPLETED', { ...CAPTURE, id: `CAP${i}` });
      await paypal.parseWebhook(body, signed(body));
    }
    expect(fetches - before).toBe(1);
  });

  it('refuses a certificate outside its validity dates, one that is not a certificate, or missing', async () => {
    const paypal = provider();
    const body = event('PAYMENT.CAPTURE.COMPLETED', CAPTURE);
    await expect(paypal.parseWebhook(body, signed(body, '/later.pem'))).rejects.toThrow(/not valid now/);
    await expect(paypal.parseWebhook(body, signed(body, '/junk.pem'))).rejects.toThrow(/PEM certificate/);
    await expect(paypal.parseWebhook(body, signed(body, '/missing.pem'))).rejects.toThrow(/answered 404/);
  });

  it('refuses transmissions older than 300 s or in the future, on the Clock', async () => {
    const paypal = provider();
    const body = event('PAYMENT.CAPTURE.COMPLETED', CAPTURE);
    const now = clock.now().getTime();
    await expect(
      paypal.parseWebhook(body, signed(body, '/good.pem', new Date(now - 301_000))),
    ).rejects.toThrow(WebhookVerificationError);
    await expect(
      paypal.parseWebhook(body, signed(body, '/good.pem', new Date(now + 120_000))),
    ).rejects.toThrow(/in the future/);
    expect((await paypal.parseWebhook(body, signed(body, '/good.pem', new Date(now - 290_000)))).type).toBe(
      'PAYMENT.CAPTURE.COMPLETED',
    );
  });

  it('refuses everything without a configured webhook id', async () => {
    const body = event('PAYMENT.CAPTURE.COMPLETED', CAPTURE);
    await expect(provider(null).parseWebhook(body, signed(body))).rejects.toThrow(/no PAYPAL_WEBHOOK_ID/);
  });

  it("allows PayPal's own hosts over https only, and configured hosts (http only on loopback)", () => {
    expect(certUrlProblem('https://api.paypal.com/v1/notifications/certs/CERT-1', [])).toBeNull();
    expect(certUrlProblem('https://api-m.sandbox.paypal.com/v1/notifications/certs/CERT-1', [])).toBeNull();
    expect(certUrlProblem('http://api.paypal.com/cert', [])).toMatch(/not PayPal's/);
    expect(certUrlProblem('https://api.paypal.com:8443/cert', [])).toMatch(/not PayPal's/);
    expect(certUrlProblem('https://api.paypal.com.attacker.example/cert', [])).toMatch(/not PayPal's/);
    expect(certUrlProblem('https://certs.example.com/c', ['certs.example.com'])).toBeNull();
    expect(certUrlProblem('http://certs.example.com/c', ['certs.example.com'])).toMatch(/must be https/);
    expect(certUrlProblem('http://127.0.0.1:4010/c', ['127.0.0.1:4010'])).toBeNull();
    expect(certUrlProblem('http://127.0.0.1:4011/c', ['127.0.0.1:4010'])).toMatch(/not PayPal's/);
    expect(certUrlProblem('https://user:pw@api.paypal.com/c', [])).toMatch(/credentials/);
  });
});
