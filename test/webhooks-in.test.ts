// Inbound Stripe webhooks over HTTP: the signature is checked on the raw body with any configured
// secret (rotation), stale or tampered deliveries are refused with 400, both paths the runbooks name
// answer, and a payment's own events arriving after its synchronous answer post nothing twice.
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './support/service.js';
import { waitFor } from './support/wait.js';

const OLD_SECRET = `whsec_${Buffer.from('o'.repeat(32)).toString('base64')}`;
const NEW_SECRET = `whsec_${Buffer.from('n'.repeat(32)).toString('base64')}`;

let t: TestService;
beforeAll(async () => {
  t = await startTestService({ env: { STRIPE_WEBHOOK_SECRET: `${NEW_SECRET},${OLD_SECRET}` } });
});
afterAll(async () => {
  await t.close();
});

function event(type = 'payment_intent.succeeded', id = 'evt_test_1') {
  return JSON.stringify({
    id,
    object: 'event',
    type,
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    data: { object: { id: 'pi_not_ours', object: 'payment_intent', status: 'succeeded' } },
  });
}

async function deliver(path: string, payload: string, header: string) {
  return fetch(`${t.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': header },
    body: payload,
  });
}

const sign = (payload: string, secret: string, timestamp?: number) =>
  Stripe.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp ? { timestamp } : {}) });

describe('POST /webhooks/stripe', () => {
  it.each(['/webhooks/stripe', '/api/webhooks/stripe'])(
    'accepts a delivery signed with either secret at %s',
    async (path) => {
      for (const secret of [NEW_SECRET, OLD_SECRET]) {
        const payload = event();
        const reply = await deliver(path, payload, sign(payload, secret));
        expect(reply.status).toBe(200);
        expect(await reply.json()).toMatchObject({ received: true, id: 'evt_test_1' });
      }
    },
  );

  it('refuses a tampered body, an unknown secret, a stale timestamp and a missing header with 400', async () => {
    const payload = event();
    const tampered = await deliver(
      '/webhooks/stripe',
      payload.replace('succeeded', 'canceled'),
      sign(payload, NEW_SECRET),
    );
    const unknown = await deliver(
      '/webhooks/stripe',
      payload,
      sign(payload, `whsec_${Buffer.from('x'.repeat(32)).toString('base64')}`),
    );
    const stale = await deliver(
      '/webhooks/stripe',
      payload,
      sign(payload, NEW_SECRET, Math.floor(Date.now() / 1000) - 301),
    );
    const missing = await fetch(`${t.url}/webhooks/stripe`, {
      method: 'POST',
      body: payload,
      headers: { 'content-type': 'application/json' },
    });
    for (const reply of [tampered, unknown, stale, missing]) {
      expect(reply.status).toBe(400);
      const body = (await reply.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('webhook_signature_invalid');
      expect(JSON.stringify(body)).not.toMatch(/\n\s+at /);
    }
    const metrics = (await t.api.get('/metrics')).text;
    expect(metrics).toMatch(/webhooks_received_total\{provider="stripe",outcome="signature_invalid"\} [1-9]/);
  });

  it("a payment's own events, delivered after the synchronous answer, post nothing twice", async () => {
    const paid = await t.merchant.post<{ id: string; status: string; latest_charge: string }>(
      '/v1/payment_intents',
      {
        amount: 1000,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: 'true',
      },
    );
    expect(paid.body.status).toBe('succeeded');
    // The embedded emulator signs its deliveries with its own secret and sends them to /webhooks/stripe.
    await waitFor('the emulator to deliver the payment events', async () => {
      const metrics = (await t.api.get('/metrics')).text;
      const line = metrics
        .split('\n')
        .find((l) => l.startsWith('webhooks_received_total{provider="stripe",outcome="processed"}'));
      return line && Number(line.split(' ').pop()) >= 2;
    });
    const charges = await t.merchant.get<{ data: unknown[] }>('/v1/charges', {
      payment_intent: paid.body.id,
    });
    expect(charges.body.data).toHaveLength(1);
    const postings = await t.merchant.get<{ data: { amount: number }[] }>('/v1/balance_transactions', {
      source: paid.body.latest_charge,
    });
    expect(postings.body.data.map((p) => p.amount)).toEqual([1000]);
  });
});
