// Operators and outbound webhooks over HTTP: endpoint and delivery lists across merchants, a delivery
// with its attempts, replay by event, by an endpoint's failures and by time range (audited, and the
// webhook-id kept), sample triggers, bad input, permissions; and the same through payctl --url.
// Replays re-queue two deliveries per batch here, so a range of five takes three.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPayctl } from './support/processes.js';
import { createMerchant, type TestService } from './support/service.js';
import { waitFor } from './support/wait.js';
import { type Receiver, startWebhookHarness } from './support/webhook-receiver.js';
import { deliveriesAroundRange, expectRangeReplayedOnce } from './support/webhook-replay.js';

let t: TestService;
let receiver: Receiver;
let close = async () => {};
beforeAll(async () => {
  ({ t, receiver, close } = await startWebhookHarness({ WEBHOOK_REPLAY_BATCH_SIZE: '2' }));
});
afterAll(() => close());

interface Delivery {
  id: string;
  status: string;
  attempts: number;
  event: string;
  endpoint: string;
  attempt_log?: { status_code: number | null }[];
}

async function setup(name: string, events: string[] = ['*']) {
  const merchant = await createMerchant(t, name);
  const endpoint = await merchant.api.post<{ id: string; secret: string }>('/v1/webhook_endpoints', {
    url: receiver.url,
    enabled_events: events,
  });
  expect(endpoint.status, endpoint.text).toBe(200);
  return { merchant, endpoint: endpoint.body };
}

async function deliveries(params: Record<string, unknown>) {
  const reply = await t.admin.get<{ data: Delivery[] }>('/admin/webhook_deliveries', {
    limit: 100,
    ...params,
  });
  expect(reply.status, reply.text).toBe(200);
  return reply.body.data;
}

const settled = (endpoint: string, count: number, status = 'succeeded') =>
  waitFor(`${count} ${status} deliveries`, async () => {
    const list = await deliveries({ endpoint, status });
    return list.length >= count && list;
  });

const arrivalsOf = (eventId: string) => receiver.received.filter((r) => r.event.id === eventId);

describe('admin webhooks', () => {
  it('lists endpoints across merchants with filters, and a delivery with its attempts', async () => {
    const { merchant, endpoint } = await setup('Listed');
    receiver.respond = () => ({ status: 200 });
    await merchant.api.post('/v1/customers', { email: 'listed@example.com' });
    const [delivery] = await settled(endpoint.id, 1);
    const listed = await t.admin.get<{ data: { id: string; merchant: string }[] }>(
      '/admin/webhook_endpoints',
      {
        merchant: merchant.id,
      },
    );
    expect(listed.body.data).toEqual([
      expect.objectContaining({ id: endpoint.id, merchant: merchant.id, status: 'enabled' }),
    ]);
    expect(JSON.stringify(listed.body)).not.toContain('whsec_');
    const disabled = await t.admin.get<{ data: unknown[] }>('/admin/webhook_endpoints', {
      merchant: merchant.id,
      status: 'disabled',
    });
    expect(disabled.body.data).toEqual([]);
    const detail = await t.admin.get<Delivery>(`/admin/webhook_deliveries/${delivery?.id}`);
    expect(detail.body).toMatchObject({
      id: delivery?.id,
      status: 'succeeded',
      attempts: 1,
      attempt_log: [{ status_code: 200 }],
    });
    expect((await t.admin.get('/admin/webhook_deliveries/msg_nope')).status).toBe(404);
  });

  it('replays by event, keeping the webhook-id, and audits it', async () => {
    const { merchant, endpoint } = await setup('Replay by event');
    receiver.respond = () => ({ status: 200 });
    const customer = await merchant.api.post<{ id: string }>('/v1/customers', { email: 'r1@example.com' });
    await settled(endpoint.id, 1);
    const events = await merchant.api.get<{ data: { id: string }[] }>('/v1/events');
    const eventId = events.body.data[0]?.id as string;
    expect(customer.status).toBe(200);
    const first = arrivalsOf(eventId);
    expect(first).toHaveLength(1);
    const replayed = await t.admin.post<{ replayed: number }>('/admin/webhooks/replay', { event: eventId });
    expect(replayed.status, replayed.text).toBe(200);
    expect(replayed.body.replayed).toBe(1);
    await waitFor('the replayed delivery', () => arrivalsOf(eventId).length === 2);
    expect(new Set(arrivalsOf(eventId).map((a) => a.id)).size).toBe(1);
    const audit = await t.admin.get<{ data: { action: string }[] }>('/admin/audit', {
      action: 'webhooks.replay',
    });
    expect(audit.body.data.length).toBeGreaterThanOrEqual(1);
  });

  it("replays an endpoint's dead deliveries, and a time range", async () => {
    const { merchant, endpoint } = await setup('Replay failures');
    receiver.respond = () => ({ status: 500 });
    await merchant.api.post('/v1/customers', { email: 'dead@example.com' });
    await waitFor(
      'a failed attempt',
      async () => (await deliveries({ endpoint: endpoint.id, status: 'failed' })).length === 1,
    );
    // Mark it dead the way an exhausted ladder leaves it, without waiting three simulated days.
    await t.service.database.db
      .updateTable('webhook_deliveries')
      .set({ status: 'dead', next_attempt_at: null })
      .where('endpoint_id', '=', endpoint.id)
      .execute();
    receiver.respond = () => ({ status: 200 });
    const replayed = await t.admin.post<{ replayed: number }>('/admin/webhooks/replay', {
      endpoint: endpoint.id,
      status: 'dead',
    });
    expect(replayed.body.replayed).toBe(1);
    const [delivery] = await settled(endpoint.id, 1);
    const detail = await t.admin.get<Delivery>(`/admin/webhook_deliveries/${delivery?.id}`);
    expect(detail.body.attempt_log?.at(-1)?.status_code).toBe(200);

    const from = new Date(t.service.clock.now().getTime() - 3_600_000).toISOString();
    const to = Math.floor(t.service.clock.now().getTime() / 1000) + 60;
    const ranged = await t.admin.post<{ replayed: number }>('/admin/webhooks/replay', {
      from,
      to,
      endpoint: endpoint.id,
    });
    expect(ranged.status, ranged.text).toBe(200);
    expect(ranged.body.replayed).toBe(1);
    await waitFor('the ranged replay', async () => {
      const [again] = await deliveries({ endpoint: endpoint.id });
      return again?.status === 'succeeded' && again.attempts === 3;
    });
  });

  it('replays a time range larger than one batch: each delivery in it once, none outside it', async () => {
    const merchant = await createMerchant(t, 'Replay a long range');
    const range = await deliveriesAroundRange(t, merchant.api, receiver, 5);
    const replayed = await t.admin.post<{ object: string; replayed: number }>('/admin/webhooks/replay', {
      from: range.from.toISOString(),
      to: range.to.toISOString(),
      endpoint: range.endpoint,
    });
    expect(replayed.status, replayed.text).toBe(200);
    expect(replayed.body).toEqual({ object: 'webhook_replay', replayed: 5 });
    await expectRangeReplayedOnce(t, receiver, range);
    // Three batches of at most two, each audited in the transaction that re-queued it.
    const audit = await t.admin.get<{ data: { new_value: Record<string, unknown> }[] }>('/admin/audit', {
      action: 'webhooks.replay',
      resource: range.endpoint,
    });
    expect(audit.body.data.map((entry) => entry.new_value).reverse()).toEqual([
      expect.objectContaining({ selector: 'range', batch: 1, replayed: 2 }),
      expect.objectContaining({ selector: 'range', batch: 2, replayed: 2 }),
      expect.objectContaining({ selector: 'range', batch: 3, replayed: 1 }),
    ]);
  });

  it.each([
    [{}, 'event'],
    [{ event: 'evt_1', endpoint: 'we_1', status: 'dead' }, 'event'],
    [{ status: 'dead' }, 'endpoint'],
    [{ endpoint: 'we_1', status: 'succeeded' }, 'status'],
    [{ from: 'yesterday', to: '2026-01-01T00:00:00Z' }, 'from'],
    [{ from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' }, 'to'],
    [{ from: '2026-01-01T00:00:00Z' }, 'to'],
    [{ event: 'evt_missing' }, 'event'],
  ])('refuses replay %j naming %s', async (body, param) => {
    const reply = await t.admin.post<{ error: { param: string } }>('/admin/webhooks/replay', body);
    expect([400, 404]).toContain(reply.status);
    expect(reply.body.error.param).toBe(param);
  });

  it('triggers a sample event to one endpoint through the normal path', async () => {
    const { merchant, endpoint } = await setup('Trigger', ['charge.succeeded']);
    const other = await merchant.api.post<{ id: string }>('/v1/webhook_endpoints', {
      url: `${receiver.url}?other`,
      enabled_events: ['*'],
    });
    receiver.respond = () => ({ status: 200 });
    receiver.verifyWith = [endpoint.secret];
    const event = await t.admin.post<{ id: string; type: string; data: { object: Record<string, unknown> } }>(
      '/admin/webhooks/trigger',
      { type: 'payment_intent.succeeded', endpoint: endpoint.id },
    );
    expect(event.status, event.text).toBe(200);
    expect(event.body.data.object).toMatchObject({
      object: 'payment_intent',
      sample: true,
      metadata: { sample: 'true' },
    });
    await waitFor('the sample delivery', () => arrivalsOf(event.body.id).length === 1);
    expect(arrivalsOf(event.body.id)[0]?.verified).toEqual([
      { secret: endpoint.secret, standard: true, stripe: true },
    ]);
    expect(await deliveries({ event: event.body.id })).toEqual([
      expect.objectContaining({ endpoint: endpoint.id }),
    ]);
    const seen = await merchant.api.get(`/v1/events/${event.body.id}`);
    expect(seen.status).toBe(200);
    // Without an endpoint, every matching endpoint of the merchant gets it.
    const broadcast = await t.admin.post<{ id: string }>('/admin/webhooks/trigger', {
      type: 'charge.succeeded',
      merchant: merchant.id,
    });
    await waitFor(
      'both deliveries',
      async () => (await deliveries({ event: broadcast.body.id, status: 'succeeded' })).length === 2,
    );
    expect(other.status).toBe(200);
    const bad = await t.admin.post<{ error: { param: string } }>('/admin/webhooks/trigger', {
      type: 'charge.nope',
      endpoint: endpoint.id,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('type');
    const missing = await t.admin.post<{ error: { param: string } }>('/admin/webhooks/trigger', {
      type: 'charge.succeeded',
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error.param).toBe('endpoint');
  });

  it('requires webhook:operate to replay, which viewers do not have', async () => {
    const created = await t.admin.post<{ id: string }>('/admin/operators', {
      email: 'viewer-webhooks@example.test',
      password: 'a long enough viewer password',
      role: 'payment-viewer',
    });
    expect(created.status, created.text).toBe(200);
    const login = await t.api.post<{ token: string }>('/admin/login', {
      email: 'viewer-webhooks@example.test',
      password: 'a long enough viewer password',
    });
    const viewer = t.api.withKey(login.body.token);
    expect((await viewer.get('/admin/webhook_deliveries')).status).toBe(200);
    expect((await viewer.post('/admin/webhooks/replay', { event: 'evt_x' })).status).toBe(403);
    expect((await viewer.post('/admin/webhooks/trigger', { type: 'charge.succeeded' })).status).toBe(403);
  });
});

describe('payctl webhooks --url', { timeout: 60_000 }, () => {
  const env = () => ({ LOG_LEVEL: 'warn' });
  const remote = () => ['--url', t.url, '--token', t.adminToken];

  it('lists endpoints and deliveries, triggers and replays', async () => {
    const { endpoint } = await setup('Payctl');
    receiver.respond = () => ({ status: 200 });
    const triggered = await runPayctl(
      [...remote(), '--json', 'webhooks', 'trigger', 'customer.created', '--endpoint', endpoint.id],
      env(),
    );
    expect(triggered.code, triggered.output).toBe(0);
    const event = JSON.parse(triggered.stdout) as { id: string; type: string };
    expect(event.type).toBe('customer.created');
    await settled(endpoint.id, 1);

    const list = await runPayctl([...remote(), 'webhooks', 'list', '--status', 'enabled'], env());
    expect(list.code, list.output).toBe(0);
    expect(list.stdout).toContain(endpoint.id);
    const json = await runPayctl(
      [...remote(), '--json', 'webhooks', 'deliveries', '--endpoint', endpoint.id],
      env(),
    );
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({ event: event.id, status: 'succeeded' }),
    ]);

    const replay = await runPayctl([...remote(), 'webhooks', 'replay', '--event', event.id], env());
    expect(replay.code, replay.output).toBe(0);
    expect(replay.stdout).toContain('replayed 1 deliveries');
    await waitFor('the replayed delivery', () => arrivalsOf(event.id).length === 2);

    const bad = await runPayctl([...remote(), 'webhooks', 'deliveries', '--status', 'lost'], env());
    expect(bad.code).not.toBe(0);
    expect(bad.output).toMatch(/--status/);
  });

  it('replays --from --to: every delivery in the range sent again, none outside it', async () => {
    const merchant = await createMerchant(t, 'Payctl range');
    const range = await deliveriesAroundRange(t, merchant.api, receiver, 3);
    // --from as ISO 8601, --to as Unix seconds (rounded down, so the delivery after it stays out).
    const replay = await runPayctl(
      [
        ...remote(),
        'webhooks',
        'replay',
        '--from',
        range.from.toISOString(),
        '--to',
        String(Math.floor(range.to.getTime() / 1000)),
        '--endpoint',
        range.endpoint,
      ],
      env(),
    );
    expect(replay.code, replay.output).toBe(0);
    expect(replay.stdout).toBe('replayed 3 deliveries\n');
    await expectRangeReplayedOnce(t, receiver, range);
  });
});
