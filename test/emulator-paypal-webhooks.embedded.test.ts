// Webhooks from the PayPal emulator verified as a receiver verifies PayPal's: fetch the certificate
// at paypal-cert-url, then crypto.verify SHA256withRSA over "id|time|webhookId|crc32(body bytes)".
import { verify, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paypalSignatureHeaders } from '../src/emulators/paypal/index.js';
import { card, order, type PayPalHarness, startPayPalHarness, type Wire } from './emulator-paypal-support.js';

const WEBHOOK_ID = 'WH-EMULATOR-SUITE-1';

interface Delivery {
  raw: Buffer;
  headers: Record<string, string>;
}

let h: PayPalHarness;
let receiver: Server;
const deliveries: Delivery[] = [];
const failOnce = new Set<string>();

beforeAll(async () => {
  h = await startPayPalHarness({ webhookRetryDelaysMs: [20, 40, 80] });
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      deliveries.push({ raw, headers: request.headers as Record<string, string> });
      const type = (JSON.parse(raw.toString('utf8')) as { event_type: string }).event_type;
      if (failOnce.delete(type)) response.writeHead(500).end();
      else response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as AddressInfo;
  const set = await h.control('POST', '/_emulator/webhook_target', {
    url: `http://127.0.0.1:${port}/webhooks/paypal`,
    secret: WEBHOOK_ID,
  });
  expect(set.status).toBe(200);
});
afterAll(async () => {
  await h.emulator.close();
  await new Promise((resolve) => receiver.close(resolve));
});

const certificates = new Map<string, X509Certificate>();
async function certificateAt(url: string): Promise<X509Certificate> {
  let cert = certificates.get(url);
  if (!cert) {
    const response = await fetch(url);
    expect(response.status).toBe(200);
    cert = new X509Certificate(await response.text());
    certificates.set(url, cert);
  }
  return cert;
}

/** A receiver's check, over the exact bytes received. */
async function verified(delivery: Delivery, raw = delivery.raw): Promise<boolean> {
  const headers = delivery.headers;
  expect(headers['paypal-auth-algo']).toBe('SHA256withRSA');
  const cert = await certificateAt(headers['paypal-cert-url']!);
  const message = `${headers['paypal-transmission-id']}|${headers['paypal-transmission-time']}|${WEBHOOK_ID}|${crc32(raw)}`;
  return verify(
    'sha256',
    Buffer.from(message),
    cert.publicKey,
    Buffer.from(headers['paypal-transmission-sig']!, 'base64'),
  );
}

async function eventually<T>(read: () => T | undefined, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const eventOf = (d: Delivery) => JSON.parse(d.raw.toString('utf8')) as Wire;
const find = (type: string, match: (resource: Wire) => boolean) => () =>
  deliveries.find((d) => eventOf(d).event_type === type && match(eventOf(d).resource));

async function capturedCard(number: string) {
  const created = await h.call('POST', '/v2/checkout/orders', {
    body: order('10.00', 'USD', { payment_source: card(number) }),
  });
  const captured = await h.call('POST', `/v2/checkout/orders/${created.body.id}/capture`);
  return {
    orderId: created.body.id as string,
    capture: captured.body.purchase_units[0].payments.captures[0] as Wire,
  };
}

describe('paypal webhooks', () => {
  it('signs PAYMENT.CAPTURE.COMPLETED so that the certificate verifies it, with the order id inside', async () => {
    const { orderId, capture } = await capturedCard('4242424242424242');
    const delivery = await eventually(find('PAYMENT.CAPTURE.COMPLETED', (r) => r.id === capture.id));
    const event = eventOf(delivery);
    expect(event).toMatchObject({ event_version: '1.0', resource_type: 'capture', resource_version: '2.0' });
    expect(event.id).toMatch(/^WH-/);
    expect(event.resource.supplementary_data.related_ids.order_id).toBe(orderId);
    expect(delivery.headers['paypal-cert-url']).toBe(h.emulator.certUrl);
    expect(h.emulator.certUrl).toMatch(/\/v1\/notifications\/certs\/CERT-/);
    expect(Date.parse(delivery.headers['paypal-transmission-time']!)).toBeLessThanOrEqual(
      h.clock.now().getTime(),
    );
    expect(await verified(delivery)).toBe(true);
  });

  it('fails verification for a tampered body or another webhook id', async () => {
    const { capture } = await capturedCard('4242424242424242');
    const delivery = await eventually(find('PAYMENT.CAPTURE.COMPLETED', (r) => r.id === capture.id));
    const tampered = Buffer.from(delivery.raw.toString('utf8').replace('"10.00"', '"1000.00"'));
    expect(tampered.equals(delivery.raw)).toBe(false);
    expect(await verified(delivery, tampered)).toBe(false);
    const forged = paypalSignatureHeaders(
      delivery.raw.toString('utf8'),
      'WH-SOMEONE-ELSE',
      {
        privateKey: (await import('node:crypto')).generateKeyPairSync('rsa', { modulusLength: 2048 })
          .privateKey,
        certUrl: h.emulator.certUrl,
      },
      new Date().toISOString(),
    );
    expect(await verified({ raw: delivery.raw, headers: forged })).toBe(false);
  });

  it('answers verify-webhook-signature like PayPal', async () => {
    const { capture } = await capturedCard('4242424242424242');
    const delivery = await eventually(find('PAYMENT.CAPTURE.COMPLETED', (r) => r.id === capture.id));
    const ask = (event: Wire) =>
      h.call('POST', '/v1/notifications/verify-webhook-signature', {
        body: {
          auth_algo: delivery.headers['paypal-auth-algo'],
          cert_url: delivery.headers['paypal-cert-url'],
          transmission_id: delivery.headers['paypal-transmission-id'],
          transmission_sig: delivery.headers['paypal-transmission-sig'],
          transmission_time: delivery.headers['paypal-transmission-time'],
          webhook_id: WEBHOOK_ID,
          webhook_event: event,
        },
      });
    expect((await ask(eventOf(delivery))).body).toEqual({ verification_status: 'SUCCESS' });
    expect((await ask({ ...eventOf(delivery), summary: 'changed' })).body).toEqual({
      verification_status: 'FAILURE',
    });
  });

  it('sends PAYMENT.CAPTURE.DENIED for a declined card and retries a failed delivery, re-signed', async () => {
    failOnce.add('PAYMENT.CAPTURE.DENIED');
    const { capture } = await capturedCard('4000000000000002');
    await eventually(() => {
      const all = deliveries.filter(
        (d) => eventOf(d).event_type === 'PAYMENT.CAPTURE.DENIED' && eventOf(d).resource.id === capture.id,
      );
      return all.length >= 2 ? all : undefined;
    });
    const all = deliveries.filter((d) => eventOf(d).resource.id === capture.id);
    expect(all[0]!.raw.equals(all[1]!.raw)).toBe(true);
    expect(all[0]!.headers['paypal-transmission-id']).not.toBe(all[1]!.headers['paypal-transmission-id']);
    for (const d of all) expect(await verified(d)).toBe(true);
    expect(eventOf(all[0]!).resource.processor_response.response_code).toBe('0500');
  });

  it('sends approval, refund and dispute events', async () => {
    const { capture } = await capturedCard('4000000000000259');
    const created = await eventually(
      find(
        'CUSTOMER.DISPUTE.CREATED',
        (r) => r.disputed_transactions[0].seller_transaction_id === capture.id,
      ),
    );
    const disputeId = eventOf(created).resource.dispute_id;
    await h.call('POST', `/v1/customer/disputes/${disputeId}/provide-evidence`, {
      body: { notes: 'winning_evidence' },
    });
    const resolved = await eventually(find('CUSTOMER.DISPUTE.RESOLVED', (r) => r.dispute_id === disputeId));
    expect(eventOf(resolved).resource.dispute_outcome.outcome_code).toBe('RESOLVED_SELLER_FAVOUR');

    const refund = await h.call('POST', `/v2/payments/captures/${capture.id}/refund`, { body: {} });
    await eventually(find('PAYMENT.CAPTURE.REFUNDED', (r) => r.id === refund.body.id));

    const wallet = await h.call('POST', '/v2/checkout/orders', {
      body: order('3.00', 'USD', {
        payment_source: {
          paypal: {
            experience_context: {
              return_url: 'https://shop.example/r',
              cancel_url: 'https://shop.example/c',
            },
          },
        },
      }),
    });
    await fetch(`${h.emulator.url}/checkoutnow?token=${wallet.body.id}&action=approve`, {
      redirect: 'manual',
    });
    const approved = await eventually(find('CHECKOUT.ORDER.APPROVED', (r) => r.id === wallet.body.id));
    expect(eventOf(approved).resource.status).toBe('APPROVED');
    expect(await verified(approved)).toBe(true);
  });
});
