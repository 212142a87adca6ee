// Inbound Stripe webhooks over HTTP: the signature is checked on the raw body with any configured
// secret (rotation); tampered, unsigned, v0-only, stale, future-dated and wrong-secret deliveries are
// refused with 400 before anything is written; both paths the runbooks name answer; a second delivery
// of an event is acknowledged as a duplicate; and a payment's own events arriving after its synchronous
// answer post nothing twice.
import { createHmac } from 'node:crypto';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboxRows, inboxSettled, writeCounts } from './support/inbox.js';
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

const nowSeconds = () => Math.floor(t.service.clock.now().getTime() / 1000);

describe('POST /webhooks/stripe', () => {
  // First, while nothing else writes: the refusals are checked against the tables' row counts.
  it('refuses a tampered body, an unknown secret, v0 only, a stale or future timestamp and a missing header with 400, writing nothing', async () => {
    const before = await writeCounts(t);
    const payload = event('payment_intent.succeeded', 'evt_refused_1');
    const v0 = `t=${nowSeconds()},v0=${createHmac('sha256', NEW_SECRET).update(`${nowSeconds()}.${payload}`).digest('hex')}`;
    const onlyV0 = await deliver('/webhooks/stripe', payload, v0);
    const future = await deliver('/webhooks/stripe', payload, sign(payload, NEW_SECRET, nowSeconds() + 120));
    const farFuture = await deliver(
      '/webhooks/stripe',
      payload,
      sign(payload, NEW_SECRET, nowSeconds() + 86_400),
    );
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
    const unsigned = await deliver('/webhooks/stripe', payload, `t=${nowSeconds()}`);
    const replies = { tampered, unknown, stale, missing, onlyV0, future, farFuture, unsigned };
    for (const [what, reply] of Object.entries(replies)) {
      expect({ what, status: reply.status }).toEqual({ what, status: 400 });
      const body = (await reply.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('webhook_signature_invalid');
      expect(JSON.stringify(body)).not.toMatch(/\n\s+at /);
      if (what === 'future' || what === 'farFuture') expect(body.error.message).toMatch(/in the future/);
    }
    expect(await writeCounts(t)).toEqual(before);
    const metrics = (await t.api.get('/metrics')).text;
    expect(metrics).toMatch(/webhooks_received_total\{provider="stripe",outcome="signature_invalid"\} 8/);
    // The same event, properly signed (a clock up to 60 s ahead is believed), is then stored once.
    const good = await deliver('/webhooks/stripe', payload, sign(payload, NEW_SECRET, nowSeconds() + 30));
    expect(await good.json()).toEqual({ received: true, id: 'evt_refused_1', duplicate: false });
    expect((await inboxRows(t, ['evt_refused_1'])).length).toBe(1);
  });

  it.each(['/webhooks/stripe', '/api/webhooks/stripe'])(
    'accepts a delivery signed with either secret at %s; a second delivery is a duplicate',
    async (path) => {
      for (const secret of [NEW_SECRET, OLD_SECRET]) {
        const id = `evt_${path.length}_${secret === NEW_SECRET ? 'new' : 'old'}`;
        const payload = event('payment_intent.succeeded', id);
        const reply = await deliver(path, payload, sign(payload, secret));
        expect(reply.status).toBe(200);
        expect(await reply.json()).toEqual({ received: true, id, duplicate: false });
        const again = await deliver(
          path,
          payload,
          sign(payload, secret === NEW_SECRET ? OLD_SECRET : NEW_SECRET),
        );
        expect(await again.json()).toEqual({ received: true, id, duplicate: true });
        expect((await inboxRows(t, [id])).length).toBe(1);
      }
      await inboxSettled(t);
      // pi_not_ours is no payment of ours: the payments handler owns the type, finds nothing, and is done.
      const rows = await inboxRows(t, [`evt_${path.length}_new`, `evt_${path.length}_old`]);
      expect(rows.map((row) => [row.status, row.attempts, row.subject])).toEqual([
        ['processed', 1, 'pi_not_ours'],
        ['processed', 1, 'pi_not_ours'],
      ]);
    },
  );

  it('stores a burst of concurrent deliveries once each with one job each, and one the database refuses fails alone', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `evt_burst_${i}`);
    // Each event twice in the same burst, so repeats land in the same batch as their first delivery.
    const payloads = [...ids, ...ids].map((id) => event('payment_intent.succeeded', id));
    // A NUL character is valid JSON but jsonb cannot store it: whatever batch it lands in, only it fails.
    const unstorable = event('payment_intent.succeeded', 'evt_burst_nul').replace(
      '"livemode"',
      '"note":"\\u0000","livemode"',
    );
    const replies = await Promise.all(
      [...payloads, unstorable].map(async (payload) => {
        const reply = await deliver('/webhooks/stripe', payload, sign(payload, NEW_SECRET));
        return { status: reply.status, body: (await reply.json()) as { id?: string; duplicate?: boolean } };
      }),
    );
    const refused = replies.pop();
    expect(refused?.status).toBe(500);
    expect(replies.every((reply) => reply.status === 200)).toBe(true);
    for (const id of ids) {
      const answers = replies.filter((reply) => reply.body.id === id).map((reply) => reply.body.duplicate);
      expect({ id, answers: answers.sort() }).toEqual({ id, answers: [false, true] });
    }
    const rows = await inboxRows(t, [...ids, 'evt_burst_nul']);
    expect(rows.map((row) => row.provider_event_id).sort()).toEqual([...ids].sort());
    await inboxSettled(t);
    const settled = await inboxRows(t, ids);
    expect(settled.every((row) => row.status === 'processed' && row.attempts === 1)).toBe(true);
  });

  it('stores an event no module handles as ignored', async () => {
    const payload = event('customer.created', 'evt_ignored_1');
    const reply = await deliver('/webhooks/stripe', payload, sign(payload, NEW_SECRET));
    expect(reply.status).toBe(200);
    await inboxSettled(t);
    const [row] = await inboxRows(t, ['evt_ignored_1']);
    expect(row).toMatchObject({ status: 'ignored', type: 'customer.created', last_error: null });
    expect(row?.processed_at).toBeInstanceOf(Date);
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
    const attempt = await t.service.database.db
      .selectFrom('payment_attempts')
      .select('provider_payment_id')
      .where('payment_intent_id', '=', paid.body.id)
      .executeTakeFirstOrThrow();
    const providerId = attempt.provider_payment_id;
    await waitFor('the emulator to deliver the payment events and the inbox to process them', async () => {
      const rows = (await inboxRows(t)).filter((row) => row.subject === providerId);
      return (
        rows.filter((row) => row.status === 'processed').length >= 2 &&
        rows.every((row) => row.status === 'processed' || row.status === 'ignored')
      );
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
