// The inbound webhook inbox over HTTP, with the embedded Stripe emulator's real events re-signed by the
// suite: every event delivered 1 to 5 times, shuffled and concurrently, has exactly one effect; events
// arriving in any order converge to the provider's truth, read back with a GET when the service does not
// know the state; the route answers while processing is still blocked; a failing event is retried,
// dead, listed, replayed and processed; finished rows' months are dropped after the retention.
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addMonths, monthStart } from '../src/modules/partitions/partitions.js';
import { PROCESS_INBOX_JOB } from '../src/modules/webhooks-in/webhook-inbox.service.js';
import type { AttemptContext } from '../src/providers/provider.js';
import { EMBEDDED_STRIPE_KEY } from '../src/providers/registry.js';
import { Api } from './support/http.js';
import { inboxRows, inboxSettled } from './support/inbox.js';
import { runPayctl } from './support/processes.js';
import { startTestService, type TestService } from './support/service.js';
import { waitFor } from './support/wait.js';

const SECRET = `whsec_${Buffer.from('i'.repeat(32)).toString('base64')}`;

interface Intent {
  id: string;
  status: string;
  amount: number;
  amount_received: number;
  latest_charge: string | null;
}
interface ProviderEventJson {
  id: string;
  type: string;
  created: number;
  data: { object: { id: string; object: string; payment_intent?: string | null; [key: string]: unknown } };
}

let t: TestService;
let emulator: Api;
/** The provider payment ids the service read back with a GET (retrieve), in order. */
const reads: string[] = [];
let blockRelease: (() => void) | undefined;
let failing = true;

beforeAll(async () => {
  t = await startTestService({
    env: { STRIPE_WEBHOOK_SECRET: SECRET, WEBHOOK_INBOX_MAX_ATTEMPTS: '3' },
  });
  emulator = new Api(t.service.providers.emulators.stripe?.url as string);
  // The suite delivers the emulator's events itself, as often and in whatever order it likes.
  expect((await emulator.delete('/_emulator/webhook_target')).status).toBe(200);
  const stripe = t.service.providers.stripe!;
  const retrieve = stripe.retrieve.bind(stripe);
  stripe.retrieve = (context: AttemptContext, providerPaymentId: string) => {
    reads.push(providerPaymentId);
    return retrieve(context, providerPaymentId);
  };
  // Test-only event types: one whose handler blocks until released, one whose handler fails.
  t.service.services.webhooks.register({
    types: ['test.block'],
    handle: () => new Promise<void>((resolve) => (blockRelease = resolve)),
  });
  t.service.services.webhooks.register({
    types: ['test.fail'],
    async handle() {
      if (failing) throw new Error('the test handler refuses this event');
    },
  });
});
afterAll(async () => {
  await t.close();
});
afterEach(async () => {
  await emulator.delete('/_emulator/faults');
});

async function deliver(payload: string) {
  const reply = await fetch(`${t.url}/webhooks/stripe`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'stripe-signature': Stripe.webhooks.generateTestHeaderString({
        payload,
        secret: SECRET,
        timestamp: Math.floor(t.service.clock.now().getTime() / 1000),
      }),
    },
    body: payload,
  });
  return { status: reply.status, body: (await reply.json()) as { id: string; duplicate: boolean } };
}

/** A Stripe-shaped event the suite makes up (test-only types, or a type no module handles). */
function syntheticEvent(id: string, type: string, objectId: string): string {
  return JSON.stringify({
    id,
    object: 'event',
    type,
    created: Math.floor(t.service.clock.now().getTime() / 1000),
    livemode: false,
    data: { object: { id: objectId, object: 'thing' } },
  });
}

function shuffle<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Every event delivered 1 to 5 times, all at once in a random order; checks one is new per event. */
async function deliverShuffled(events: ProviderEventJson[]) {
  const copies = events.flatMap((event) =>
    Array.from({ length: 1 + Math.floor(Math.random() * 5) }, () => JSON.stringify(event)),
  );
  const replies = await Promise.all(shuffle(copies).map(deliver));
  for (const reply of replies) expect(reply.status).toBe(200);
  const fresh = replies.filter((reply) => !reply.body.duplicate).map((reply) => reply.body.id);
  expect(fresh.sort()).toEqual(events.map((event) => event.id).sort());
  return replies.length;
}

async function providerId(intentId: string): Promise<string> {
  const attempt = await t.service.database.db
    .selectFrom('payment_attempts')
    .select('provider_payment_id')
    .where('payment_intent_id', '=', intentId)
    .executeTakeFirstOrThrow();
  return attempt.provider_payment_id as string;
}

/** The emulator's events about these provider payment intents (and their charges, refunds, disputes). */
async function providerEvents(providerIds: string[]): Promise<ProviderEventJson[]> {
  const state = await emulator.get<{ events: ProviderEventJson[] }>('/_emulator/state', { types: 'events' });
  const wanted = new Set(providerIds);
  return state.body.events.filter((event) => {
    const object = event.data.object;
    return wanted.has(object.id) || wanted.has(object.payment_intent ?? '');
  });
}

async function pay(extra: Record<string, unknown> = {}) {
  const reply = await t.merchant.post<Intent>('/v1/payment_intents', {
    amount: 1500,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    confirm: 'true',
    ...extra,
  });
  expect(reply.status, reply.text).toBe(200);
  return reply.body;
}

async function ourEvents(type: string, objectId: string) {
  const list = await t.merchant.get<{ data: { data: { object: { id: string } } }[] }>('/v1/events', {
    type,
    limit: 100,
  });
  return list.body.data.filter((event) => event.data.object.id === objectId);
}

async function postings(source: string) {
  const list = await t.merchant.get<{ data: { amount: number; type: string }[] }>(
    '/v1/balance_transactions',
    { source },
  );
  return list.body.data.map((txn) => txn.amount);
}

describe('exactly one effect per event', () => {
  it('payments whose answer was lost are settled once by their events, however often and in whatever order they come', async () => {
    await emulator.post('/_emulator/faults', { mode: 'drop_after_charge' }, { as: 'json' });
    const intents: Intent[] = [];
    for (let i = 0; i < 6; i++) intents.push(await pay({ amount: 1000 + i }));
    await emulator.delete('/_emulator/faults');
    for (const intent of intents) expect(intent.status).toBe('processing');
    const ids = await Promise.all(intents.map((intent) => providerId(intent.id)));
    const events = await providerEvents(ids);
    expect(events.length).toBeGreaterThanOrEqual(intents.length * 2);
    const readsBefore = reads.length;

    await deliverShuffled(events);
    await inboxSettled(t);

    const rows = await inboxRows(
      t,
      events.map((event) => event.id),
    );
    expect(rows).toHaveLength(events.length);
    for (const row of rows) expect(['processed', 'ignored']).toContain(row.status);
    for (const [i, intent] of intents.entries()) {
      const now = (await t.merchant.get<Intent>(`/v1/payment_intents/${intent.id}`)).body;
      expect(now).toMatchObject({ status: 'succeeded', amount_received: 1000 + i });
      expect(await ourEvents('payment_intent.succeeded', intent.id)).toHaveLength(1);
      expect(await postings(now.latest_charge as string)).toEqual([1000 + i]);
      // The service did not know the outcome: the event made it read the intent back from Stripe.
      expect(reads.slice(readsBefore)).toContain(ids[i]);
    }
  });

  it('refunds are applied once, and a refund the provider failed later stays failed when older events come after', async () => {
    const method = await t.merchant.post<{ id: string }>('/v1/payment_methods', {
      type: 'card',
      card: {
        number: '4000000000005126',
        exp_month: 12,
        exp_year: new Date().getUTCFullYear() + 2,
        cvc: '123',
      },
    });
    expect(method.status, method.text).toBe(200);
    const failingRefund = await pay({ payment_method: method.body.id, amount: 2500 });
    const plain = await pay({ amount: 1800 });
    const refunds = [];
    for (const [intent, amount] of [
      [failingRefund, 1000],
      [plain, 800],
    ] as const) {
      const refund = await t.merchant.post<{ id: string; status: string }>('/v1/refunds', {
        payment_intent: intent.id,
        amount,
      });
      expect(refund.body.status, refund.text).toBe('succeeded');
      refunds.push(refund.body);
    }
    const ids = [await providerId(failingRefund.id), await providerId(plain.id)];
    // The emulator fails the first refund about a second later on its clock (the service's).
    await t.api.post('/_test/clock', { advance_seconds: 5 });
    const events = await waitFor('the provider to fail the refund', async () => {
      const found = await providerEvents(ids);
      return found.some((event) => event.type === 'refund.failed') ? found : undefined;
    });
    // Newest first: the refund's failure reaches us before the refund's creation and the payments' success.
    const newestFirst = [...events].sort((a, b) => b.created - a.created);
    for (const event of newestFirst)
      expect((await deliver(JSON.stringify(event))).body.duplicate).toBe(false);
    // Then each again, 1 to 5 times at once: all duplicates.
    const again = await Promise.all(
      shuffle(newestFirst.flatMap((event) => Array(1 + Math.floor(Math.random() * 5)).fill(event))).map(
        (event) => deliver(JSON.stringify(event)),
      ),
    );
    for (const reply of again) expect(reply.body.duplicate).toBe(true);
    await inboxSettled(t);

    const state = await emulator.get<{ refunds: { metadata: { refund_id?: string }; status: string }[] }>(
      '/_emulator/state',
      { types: 'refunds' },
    );
    for (const refund of refunds) {
      const truth = state.body.refunds.find((r) => r.metadata.refund_id === refund.id);
      const ours = await t.merchant.get<{ status: string }>(`/v1/refunds/${refund.id}`);
      expect(ours.body.status).toBe(truth?.status);
    }
    expect((await t.merchant.get<{ status: string }>(`/v1/refunds/${refunds[0]?.id}`)).body.status).toBe(
      'failed',
    );
    // One refund posting each, and the failure reversed once.
    expect(await postings(refunds[0]?.id as string)).toEqual(expect.arrayContaining([-1000, 1000]));
    expect(await postings(refunds[0]?.id as string)).toHaveLength(2);
    expect(await postings(refunds[1]?.id as string)).toEqual([-800]);
    for (const intent of [failingRefund, plain]) {
      expect(await ourEvents('payment_intent.succeeded', intent.id)).toHaveLength(1);
      expect((await t.merchant.get<Intent>(`/v1/payment_intents/${intent.id}`)).body.status).toBe(
        'succeeded',
      );
    }
  });

  it('a stale failure event about a payment whose outcome we do not know is checked against Stripe, not believed', async () => {
    await emulator.post('/_emulator/faults', { mode: 'drop_after_charge' }, { as: 'json' });
    const intent = await pay({ amount: 1234 });
    await emulator.delete('/_emulator/faults');
    expect(intent.status).toBe('processing');
    const id = await providerId(intent.id);
    const succeeded = (await providerEvents([id])).find((e) => e.type === 'payment_intent.succeeded');
    if (!succeeded) throw new Error('the emulator sent no payment_intent.succeeded');
    // An older event claiming failure (e.g. about a previous confirmation), signed like any other.
    const stale = {
      ...succeeded,
      id: `evt_stale_${intent.id}`,
      type: 'payment_intent.payment_failed',
      created: succeeded.created - 60,
      data: { object: { ...succeeded.data.object, status: 'requires_payment_method' } },
    };
    const readsBefore = reads.length;
    expect((await deliver(JSON.stringify(stale))).body.duplicate).toBe(false);
    await inboxSettled(t);
    expect(reads.slice(readsBefore)).toContain(id);
    const now = (await t.merchant.get<Intent>(`/v1/payment_intents/${intent.id}`)).body;
    expect(now).toMatchObject({ status: 'succeeded', amount_received: 1234 });
    // And a stale event about a payment already final changes nothing either.
    const late = { ...stale, id: `evt_late_${intent.id}` };
    await deliver(JSON.stringify(late));
    await inboxSettled(t);
    expect((await t.merchant.get<Intent>(`/v1/payment_intents/${intent.id}`)).body.status).toBe('succeeded');
    expect(await ourEvents('payment_intent.succeeded', intent.id)).toHaveLength(1);
    expect(await ourEvents('payment_intent.payment_failed', intent.id)).toHaveLength(0);
  });
});

describe('disputes in any order', () => {
  it('a won dispute whose opening arrives after its closing ends won, posted once each way', async () => {
    const intent = await pay({ payment_method: 'pm_card_createDispute', amount: 3000 });
    const id = await providerId(intent.id);
    const state = await emulator.get<{ disputes: { id: string; payment_intent: string }[] }>(
      '/_emulator/state',
      { types: 'disputes' },
    );
    const dispute = state.body.disputes.find((d) => d.payment_intent === id);
    if (!dispute) throw new Error('no dispute at the emulator');
    const won = await fetch(`${emulator.baseUrl}/v1/disputes/${dispute.id}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${EMBEDDED_STRIPE_KEY}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ 'evidence[uncategorized_text]': 'winning_evidence' }).toString(),
    });
    expect(won.status).toBe(200);
    const events = await waitFor('the dispute to close at the provider', async () => {
      const found = await providerEvents([id]);
      return found.some((event) => event.type === 'charge.dispute.closed') ? found : undefined;
    });
    const newestFirst = [...events].sort((a, b) => b.created - a.created);
    for (const event of newestFirst)
      expect((await deliver(JSON.stringify(event))).body.duplicate).toBe(false);
    await Promise.all(newestFirst.map((event) => deliver(JSON.stringify(event))));
    await inboxSettled(t);

    const row = await t.service.database.db
      .selectFrom('disputes')
      .selectAll()
      .where('payment_intent_id', '=', intent.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'won', amount: 3000 });
    expect(await ourEvents('charge.dispute.created', row.id)).toHaveLength(1);
    expect(await ourEvents('charge.dispute.closed', row.id)).toHaveLength(1);
    // Withdrawn once (with the provider's fee), reinstated once.
    expect((await postings(row.id)).sort((a, b) => a - b)).toEqual([-3000, 3000]);
    expect(row.fee).toBeGreaterThan(0);
  });
});

describe('processing happens in the job', () => {
  it('answers 200 while the handler is still blocked, and processes the event once released', async () => {
    blockRelease = undefined;
    const payload = syntheticEvent('evt_block_1', 'test.block', 'obj_block_1');
    const reply = await deliver(payload);
    expect(reply).toEqual({ status: 200, body: { received: true, id: 'evt_block_1', duplicate: false } });
    await waitFor('the handler to start', () => blockRelease !== undefined);
    const [during] = await inboxRows(t, ['evt_block_1']);
    expect(during).toMatchObject({ status: 'pending', attempts: 1, subject: 'obj_block_1' });
    (blockRelease as (() => void) | undefined)?.();
    await inboxSettled(t);
    const [after] = await inboxRows(t, ['evt_block_1']);
    expect(after).toMatchObject({ status: 'processed', attempts: 1 });
    const metrics = (await t.api.get('/metrics')).text;
    expect(metrics).toMatch(
      /webhook_processing_duration_seconds_count\{provider="stripe",outcome="processed"\} [1-9]/,
    );
    expect(metrics).toMatch(/webhook_inbox_lag_seconds_count\{provider="stripe"\} [1-9]/);
    expect(metrics).toMatch(/stripe_webhook_duration_seconds_count\{outcome="accepted"\} [1-9]/);
  });
});

describe('failures, dead letters and replay', () => {
  it('retries a failing event, marks it dead after the last attempt, lists it, and replays it', async () => {
    failing = true;
    const payload = syntheticEvent('evt_fail_1', 'test.fail', 'obj_fail_1');
    expect((await deliver(payload)).status).toBe(200);
    const failed = await waitFor('the first failure', async () => {
      const [row] = await inboxRows(t, ['evt_fail_1']);
      return row?.status === 'failed' ? row : undefined;
    });
    expect(failed).toMatchObject({ attempts: 1, last_error: 'the test handler refuses this event' });
    // The retries back off on the service clock.
    const dead = await waitFor('the event to be dead', async () => {
      const [row] = await inboxRows(t, ['evt_fail_1']);
      if (row?.status === 'dead') return row;
      await t.api.post('/_test/clock', { advance_seconds: 30 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      return undefined;
    });
    expect(dead.attempts).toBe(3);
    // The gauge reads the inbox on scrape; the dead row's commit may trail the status we just read.
    const metrics = await waitFor('the dead gauge', async () => {
      const text = (await t.api.get('/metrics')).text;
      return /\nwebhook_inbox_dead 1\n/.test(text) ? text : undefined;
    });
    expect(metrics).toMatch(/\nwebhook_inbox_dead 1\n/);
    expect(metrics).toMatch(
      /webhook_processing_duration_seconds_count\{provider="stripe",outcome="dead"\} 1/,
    );

    const list = await t.admin.get<{ data: { id: string; provider_event_id: string; status: string }[] }>(
      '/admin/webhooks/inbound',
      { status: 'dead', provider: 'stripe', type: 'test.fail' },
    );
    expect(list.status, list.text).toBe(200);
    expect(list.body.data.map((row) => [row.id, row.provider_event_id, row.status])).toEqual([
      [dead.id, 'evt_fail_1', 'dead'],
    ]);
    const shown = await t.admin.get<Record<string, unknown>>(`/admin/webhooks/inbound/${dead.id}`);
    expect(shown.body).toMatchObject({
      object: 'inbound_webhook',
      status: 'dead',
      attempts: 3,
      last_error: 'the test handler refuses this event',
      payload: { id: 'evt_fail_1', type: 'test.fail' },
    });
    const cli = await runPayctl(
      ['--url', t.url, '--token', t.adminToken, '--json', 'webhooks', 'inbound', 'list', '--status', 'dead'],
      { LOG_LEVEL: 'warn' },
    );
    expect(cli.code, cli.output).toBe(0);
    expect((JSON.parse(cli.stdout) as { id: string }[]).map((row) => row.id)).toEqual([dead.id]);

    failing = false;
    // The runner dead-letters the job just after the handler recorded the row dead.
    const deadJob = () =>
      t.service.database.db
        .selectFrom('jobs')
        .select(['id', 'payload'])
        .where('name', '=', PROCESS_INBOX_JOB)
        .where('dead_at', 'is not', null)
        .execute();
    await waitFor('the job to be dead-lettered', async () => (await deadJob()).length === 1);
    const replay = await t.admin.post<{ replayed: number }>(
      '/admin/webhooks/inbound/replay',
      { status: 'dead' },
      { as: 'json' },
    );
    expect(replay.status, replay.text).toBe(200);
    expect(replay.body.replayed).toBe(1);
    const processed = await waitFor('the replayed event to be processed', async () => {
      const [row] = await inboxRows(t, ['evt_fail_1']);
      return row?.status === 'processed' ? row : undefined;
    });
    expect(processed).toMatchObject({ attempts: 4, last_error: null });
    // The dead-lettered job it replaced is gone, so the jobs dead-letter depth does not keep alerting.
    expect(await deadJob()).toEqual([]);
    const again = await t.admin.post<{ replayed: number }>(
      '/admin/webhooks/inbound/replay',
      { status: 'dead' },
      { as: 'json' },
    );
    expect(again.body.replayed).toBe(0);
    const audit = await t.service.database.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'webhook_inbox.replay')
      .execute();
    expect(audit.map((row) => row.new_value)).toEqual([
      expect.objectContaining({ status: 'dead', replayed: 1 }),
      expect.objectContaining({ status: 'dead', replayed: 0 }),
    ]);
    // By id, through payctl: a processed event may be processed again (handlers are idempotent).
    const byId = await runPayctl(
      ['--url', t.url, '--token', t.adminToken, '--json', 'webhooks', 'inbound', 'replay', '--id', dead.id],
      { LOG_LEVEL: 'warn' },
    );
    expect(byId.code, byId.output).toBe(0);
    expect(JSON.parse(byId.stdout)).toEqual({ replayed: 1 });
    await inboxSettled(t);
    expect((await inboxRows(t, ['evt_fail_1']))[0]).toMatchObject({ status: 'processed', attempts: 5 });
  });

  it('answers bad admin input with 400 naming the parameter', async () => {
    const cases: [string, () => Promise<{ status: number; body: unknown }>, string][] = [
      ['status', () => t.admin.get('/admin/webhooks/inbound', { status: 'lost' }), 'status'],
      ['provider', () => t.admin.get('/admin/webhooks/inbound', { provider: 'adyen' }), 'provider'],
      ['limit', () => t.admin.get('/admin/webhooks/inbound', { limit: 1000 }), 'limit'],
      ['window', () => t.admin.get('/admin/webhooks/inbound', { from: 200, to: 100 }), 'to'],
      ['nothing', () => t.admin.post('/admin/webhooks/inbound/replay', {}, { as: 'json' }), 'status'],
      [
        'both',
        () =>
          t.admin.post('/admin/webhooks/inbound/replay', { id: 'whin_x', status: 'dead' }, { as: 'json' }),
        'id',
      ],
      [
        'replay status',
        () => t.admin.post('/admin/webhooks/inbound/replay', { status: 'processed' }, { as: 'json' }),
        'status',
      ],
      [
        'unknown',
        () => t.admin.post('/admin/webhooks/inbound/replay', { ids: ['x'] }, { as: 'json' }),
        'ids',
      ],
    ];
    for (const [what, call, param] of cases) {
      const reply = await call();
      expect({ what, status: reply.status }).toEqual({ what, status: 400 });
      expect((reply.body as { error: { param: string } }).error.param).toBe(param);
    }
    const missing = await t.admin.get('/admin/webhooks/inbound/whin_missing');
    expect(missing.status).toBe(404);
    const anonymous = await t.api.get('/admin/webhooks/inbound');
    expect(anonymous.status).toBe(401);
  });

  it('pages newest first', async () => {
    const first = await t.admin.get<{ data: { id: string }[]; has_more: boolean }>(
      '/admin/webhooks/inbound',
      {
        limit: 2,
      },
    );
    expect(first.body.data).toHaveLength(2);
    expect(first.body.has_more).toBe(true);
    const next = await t.admin.get<{ data: { id: string; received_at: number }[] }>(
      '/admin/webhooks/inbound',
      {
        limit: 100,
        starting_after: first.body.data[1]?.id,
      },
    );
    const all = await t.admin.get<{ data: { id: string }[] }>('/admin/webhooks/inbound', { limit: 100 });
    expect([...first.body.data, ...next.body.data].map((row) => row.id)).toEqual(
      all.body.data.map((row) => row.id),
    );
  });
});

describe('purge', () => {
  it('drops the months of finished rows once past WEBHOOK_INBOX_RETENTION_DAYS and keeps newer ones', async () => {
    await inboxSettled(t);
    const old = await inboxRows(t);
    expect(old.length).toBeGreaterThan(5);
    // Rows go a whole month at a time (monthly partitions by the provider's event time): the newest
    // old row's month must end more than the retention (30 days) ago.
    const newest = Math.max(...old.map((row) => row.occurred_at.getTime()));
    await t.api.post('/_test/clock', {
      to: addMonths(monthStart(new Date(newest)), 1).getTime() / 1000 + 30 * 86_400 + 3600,
    });
    const payload = syntheticEvent('evt_after_purge', 'customer.created', 'cus_x');
    expect((await deliver(payload)).status).toBe(200);
    // Retention runs every six hours of service time.
    await t.api.post('/_test/clock', { advance_seconds: 6 * 3600 });
    await waitFor(
      'the purge',
      async () =>
        (
          await inboxRows(
            t,
            old.map((row) => row.provider_event_id),
          )
        ).length === 0,
    );
    await inboxSettled(t);
    expect((await inboxRows(t, ['evt_after_purge'])).map((row) => row.status)).toEqual(['ignored']);
  });
});
