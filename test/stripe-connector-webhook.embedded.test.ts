// Inbound Stripe webhook verification: an event the emulator really delivers verifies and maps to our
// ProviderEvent; either of two rotating secrets is accepted; a tampered body, a wrong secret, a stale
// timestamp and a v0-only signature are each refused.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../src/clock.js';
import { stripeSignatureHeader } from '../src/emulators/stripe/index.js';
import type { StripeProvider } from '../src/providers/stripe/stripe.provider.js';
import { WebhookVerificationError } from '../src/providers/stripe/stripe.webhook.js';
import { type EmulatorHarness, startHarness } from './emulator-support.js';
import { card, connector, created } from './stripe-connector-support.js';

const OLD_SECRET = 'whsec_connector_old_secret';
const NEW_SECRET = 'whsec_connector_new_secret';

interface Received {
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

let h: EmulatorHarness;
let stripe: StripeProvider;
let receiver: Server;
const received: Received[] = [];

beforeAll(async () => {
  h = await startHarness();
  stripe = connector(h, { webhookSecrets: [OLD_SECRET, NEW_SECRET] });
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ body: Buffer.concat(chunks), headers: request.headers });
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as AddressInfo;
  await h.control.post(
    '/_emulator/webhook_target',
    { url: `http://127.0.0.1:${port}/webhooks/stripe`, secret: NEW_SECRET },
    { as: 'json' },
  );
});
afterAll(async () => {
  await h.emulator.close();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

const nowSeconds = () => Math.floor(systemClock.now().getTime() / 1000);

function event(type = 'payment_intent.succeeded') {
  const body = JSON.stringify({
    id: 'evt_connector_1',
    object: 'event',
    type,
    created: nowSeconds(),
    livemode: false,
    data: { object: { id: 'ch_1', object: 'charge', payment_intent: 'pi_from_charge' } },
  });
  return Buffer.from(body);
}

const signed = (body: Buffer, secret: string, at = nowSeconds()) => ({
  'stripe-signature': stripeSignatureHeader(body.toString('utf8'), secret, at),
});

describe('parseWebhook', () => {
  it('verifies an event the emulator delivered and names its payment intent', async () => {
    const { context, id } = await created(stripe);
    await stripe.confirm(context, id, card('4242424242424242'));
    const deadline = Date.now() + 5_000;
    let delivery: Received | undefined;
    while (!delivery && Date.now() < deadline) {
      delivery = received.find(
        (r) => r.body.toString().includes('"payment_intent.succeeded"') && r.body.toString().includes(id),
      );
      if (!delivery) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(delivery).toBeDefined();
    const parsed = stripe.parseWebhook(delivery!.body, delivery!.headers);
    expect(parsed).toMatchObject({ type: 'payment_intent.succeeded', providerPaymentId: id });
    expect(parsed.providerEventId).toMatch(/^evt_/);
    expect(parsed.occurredAt).toBeInstanceOf(Date);
  });

  it('accepts either secret during a rotation, and maps charge events to their payment intent', () => {
    const body = event('charge.succeeded');
    for (const secret of [OLD_SECRET, NEW_SECRET]) {
      expect(stripe.parseWebhook(body, signed(body, secret))).toMatchObject({
        providerEventId: 'evt_connector_1',
        type: 'charge.succeeded',
        providerPaymentId: 'pi_from_charge',
      });
    }
  });

  it('refuses a tampered body', () => {
    const body = event();
    const headers = signed(body, NEW_SECRET);
    const tampered = Buffer.from(body.toString().replace('pi_from_charge', 'pi_someone_else'));
    expect(() => stripe.parseWebhook(tampered, headers)).toThrow(WebhookVerificationError);
  });

  it('refuses a signature made with another secret', () => {
    const body = event();
    expect(() => stripe.parseWebhook(body, signed(body, 'whsec_not_ours'))).toThrow(/expected signature/);
  });

  it('refuses a timestamp older than 300 seconds, and accepts one just inside', () => {
    const body = event();
    expect(() => stripe.parseWebhook(body, signed(body, NEW_SECRET, nowSeconds() - 301))).toThrow(
      /tolerance/,
    );
    expect(stripe.parseWebhook(body, signed(body, NEW_SECRET, nowSeconds() - 290)).type).toBe(
      'payment_intent.succeeded',
    );
  });

  it('refuses a header carrying only a v0 signature', () => {
    const body = event();
    const v1 = signed(body, NEW_SECRET)['stripe-signature'];
    const v0Only = v1.replace('v1=', 'v0=');
    expect(() => stripe.parseWebhook(body, { 'stripe-signature': v0Only })).toThrow(WebhookVerificationError);
  });

  it('refuses a request without a signature header', () => {
    expect(() => stripe.parseWebhook(event(), {})).toThrow(/missing Stripe-Signature/);
  });
});
