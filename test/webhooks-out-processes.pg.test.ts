// Outbound webhooks across real processes on PostgreSQL: a service SIGKILLed while an attempt is in
// flight delivers the event after a restart (the outbox row committed with the event), and two
// service processes on one database share the delivery work without losing any; and payctl's webhook
// commands in process, a time-range replay among them.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, expect, it } from 'vitest';
import { Api } from './support/http.js';
import { metricValue } from './support/jobs.js';
import { createTestDatabase } from './support/postgres.js';
import { type RunningProcess, runPayctl, spawnPayctl } from './support/processes.js';
import { startTestService } from './support/service.js';
import { waitFor } from './support/wait.js';
import { startReceiver } from './support/webhook-receiver.js';
import { deliveriesAroundRange, expectRangeReplayedOnce } from './support/webhook-replay.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function track(process: RunningProcess): RunningProcess {
  cleanups.push(() => {
    if (process.child.exitCode === null) process.child.kill('SIGKILL');
  });
  return process;
}

async function startService(env: Record<string, string>) {
  const port = await freePort();
  const running = track(spawnPayctl(['start'], { ...env, PORT: String(port) }));
  await running.waitFor('payment service listening', 60_000);
  return { running, url: `http://127.0.0.1:${port}` };
}

async function baseEnv() {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  return {
    HOST: '127.0.0.1',
    DATABASE_URL: database.url,
    BOOTSTRAP_SECRET_KEY: `sk_test_${randomBytes(16).toString('hex')}`,
    TEST_CLOCK: 'true',
    ALLOW_PRIVATE_WEBHOOK_URLS: 'true',
    JOBS_POLL_INTERVAL_MS: '50',
    LOG_LEVEL: 'warn',
  };
}

it('delivers an event whose attempt was in flight when the service was SIGKILLed', async () => {
  const env = await baseEnv();
  // The receiver's clock is the service's: real time plus what this test advanced it by.
  let offsetMs = 0;
  const receiver = await startReceiver(() => Date.now() + offsetMs);
  cleanups.push(() => receiver.close());
  receiver.respond = () =>
    receiver.received.length === 0 ? { status: 200, delayMs: 'hang' } : { status: 200 };

  let service = await startService(env);
  const merchant = new Api(service.url, env.BOOTSTRAP_SECRET_KEY);
  const endpoint = await merchant.post<{ id: string; secret: string }>('/v1/webhook_endpoints', {
    url: receiver.url,
    enabled_events: ['customer.created'],
  });
  expect(endpoint.status, endpoint.text).toBe(200);
  receiver.verifyWith = [endpoint.body.secret];
  const customer = await merchant.post<{ id: string }>('/v1/customers', { email: 'killed@example.com' });
  expect(customer.status).toBe(200);
  await waitFor('the first attempt to reach the receiver', () => receiver.received.length === 1, 15_000);
  service.running.child.kill('SIGKILL');
  await service.running.exited;

  service = await startService(env);
  const api = new Api(service.url);
  // The dead worker's lease (timeout + 30 s) has to pass on the clock before another worker retakes it.
  const advanced = await api.post('/_test/clock', { advance_seconds: 120 });
  expect(advanced.status).toBe(200);
  offsetMs = 120_000;
  await waitFor('the delivery after the restart', () => receiver.received.length === 2, 20_000);
  const [first, second] = receiver.received;
  expect(second?.event.data.object.id).toBe(customer.body.id);
  expect(second?.id).toBe(first?.id);
  expect(second?.verified).toEqual([{ secret: endpoint.body.secret, standard: true, stripe: true }]);
  service.running.child.kill('SIGTERM');
  await service.running.exited;
}, 180_000);

it('shares 300 deliveries between two processes on one database, losing none', async () => {
  const env = await baseEnv();
  const receiver = await startReceiver(() => Date.now());
  cleanups.push(() => receiver.close());
  // A few milliseconds per answer, so one process cannot take everything before the other polls.
  receiver.respond = () => ({ status: 200, delayMs: 5 });
  const one = await startService(env);
  const two = await startService(env);
  const apis = [one, two].map((s) => new Api(s.url, env.BOOTSTRAP_SECRET_KEY));
  const endpoint = await apis[0]?.post<{ id: string; secret: string }>('/v1/webhook_endpoints', {
    url: receiver.url,
    enabled_events: ['customer.created'],
  });
  expect(endpoint?.status).toBe(200);
  receiver.verifyWith = [endpoint?.body.secret as string];
  const count = 300;
  const created: string[] = [];
  for (let batch = 0; batch < count / 20; batch++) {
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (apis[i % 2] as Api).post<{ id: string }>('/v1/customers', { email: `c${batch}-${i}@example.com` }),
      ),
    );
    for (const reply of replies) created.push(reply.body.id);
  }
  await waitFor(`${count} distinct deliveries`, () => receiver.distinctIds().size >= count, 60_000);
  const delivered = new Set(receiver.received.map((r) => r.event.data.object.id as string));
  expect(created.every((id) => delivered.has(id))).toBe(true);
  expect(receiver.distinctIds().size).toBe(count);
  expect(receiver.received.every((r) => r.verified[0]?.standard && r.verified[0]?.stripe)).toBe(true);
  // A receiver may see the request a moment before its sender records the outcome.
  const succeededIn = async (s: { url: string }) =>
    metricValue(await (await fetch(`${s.url}/metrics`)).text(), 'webhook_deliveries_total', {
      status: 'succeeded',
    }) ?? 0;
  let worked: number[] = [];
  await waitFor('both processes to record every delivery', async () => {
    worked = await Promise.all([one, two].map(succeededIn));
    return (worked[0] ?? 0) + (worked[1] ?? 0) >= count;
  });
  expect(worked[0]).toBeGreaterThan(0);
  expect(worked[1]).toBeGreaterThan(0);
  for (const s of [one, two]) {
    s.running.child.kill('SIGTERM');
    await s.running.exited;
  }
}, 240_000);

it('payctl webhooks in process on the database a running service delivers from', async () => {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const t = await startTestService({
    databaseUrl: database.url,
    env: { ALLOW_PRIVATE_WEBHOOK_URLS: 'true' },
  });
  cleanups.push(() => t.close());
  const receiver = await startReceiver(() => t.service.clock.now().getTime());
  cleanups.push(() => receiver.close());
  const endpoint = await t.merchant.post<{ id: string }>('/v1/webhook_endpoints', {
    url: receiver.url,
    enabled_events: ['customer.*'],
  });
  const env = { DATABASE_URL: database.url, LOG_LEVEL: 'warn' };

  const triggered = await runPayctl(
    ['--json', 'webhooks', 'trigger', 'customer.updated', '--endpoint', endpoint.body.id],
    env,
  );
  expect(triggered.code, triggered.output).toBe(0);
  const event = JSON.parse(triggered.stdout) as { id: string };
  await waitFor(
    'the triggered delivery',
    () => receiver.received.some((r) => r.event.id === event.id),
    15_000,
  );

  const listed = await runPayctl(['webhooks', 'list'], env);
  expect(listed.code, listed.output).toBe(0);
  expect(listed.stdout).toContain(endpoint.body.id);
  await waitFor(
    'the delivery to be recorded',
    async () => {
      const deliveries = await runPayctl(
        ['--json', 'webhooks', 'deliveries', '--endpoint', endpoint.body.id],
        env,
      );
      const rows = JSON.parse(deliveries.stdout) as { event: string; status: string }[];
      return rows.length === 1 && rows[0]?.status === 'succeeded';
    },
    30_000,
  );

  const replay = await runPayctl(['webhooks', 'replay', '--event', event.id], env);
  expect(replay.code, replay.output).toBe(0);
  expect(replay.stdout).toContain('replayed 1 deliveries');
  await waitFor(
    'the replay',
    () => receiver.received.filter((r) => r.event.id === event.id).length === 2,
    15_000,
  );
  const audit = await t.admin.get<{ data: { action: string; actor: { type: string } }[] }>('/admin/audit', {
    limit: 100,
  });
  expect(audit.body.data.filter((a) => a.action.startsWith('webhooks.')).map((a) => a.actor.type)).toEqual([
    'cli',
    'cli',
  ]);

  const bad = await runPayctl(['webhooks', 'replay', '--status', 'dead'], env);
  expect(bad.code).not.toBe(0);
  expect(bad.output.trim().split('\n')).toHaveLength(1);

  // A time range across every endpoint, in batches of two: the three deliveries inside it are sent
  // again, the ones before and after it (and the triggered event's, older still) are not.
  expect((await t.merchant.delete(`/v1/webhook_endpoints/${endpoint.body.id}`)).status).toBe(200);
  const range = await deliveriesAroundRange(t, t.merchant, receiver, 3);
  const ranged = await runPayctl(
    ['webhooks', 'replay', '--from', range.from.toISOString(), '--to', range.to.toISOString()],
    { ...env, WEBHOOK_REPLAY_BATCH_SIZE: '2' },
  );
  expect(ranged.code, ranged.output).toBe(0);
  expect(ranged.stdout).toBe('replayed 3 deliveries\n');
  await expectRangeReplayedOnce(t, receiver, range);
  expect(receiver.received.filter((r) => r.event.id === event.id)).toHaveLength(2);
  const batches = await t.admin.get<{
    data: { actor: { type: string }; new_value: Record<string, unknown> }[];
  }>('/admin/audit', { action: 'webhooks.replay', limit: 100 });
  expect(
    batches.body.data
      .filter((a) => a.new_value.selector === 'range')
      .map((a) => [a.actor.type, a.new_value.batch, a.new_value.replayed])
      .reverse(),
  ).toEqual([
    ['cli', 1, 2],
    ['cli', 2, 1],
  ]);
}, 180_000);
