// Scale-out (issue 11): three `payctl start` processes on one PostgreSQL database and one Redis, behind
// nginx running the shipped deploy/nginx/payments.conf (test/support/balancer.ts). Every request below
// goes through the balancer unless it must reach one replica; each replica is then asked directly.
//
// Already proven across replicas elsewhere, and here proven again only through the balancer and with
// three processes: rate limits shared through Redis (rate-limits.pg.test.ts, two processes, FLUSHDB),
// key revocation and flags within 5 s (keys-revocation.pg.test.ts, flags.pg.test.ts: two in-process
// services), deliveries shared by two processes and one SIGKILLed mid-delivery then restarted
// (webhooks-out-processes.pg.test.ts). New here: the balancer spreads requests over all three, one
// limit holds for the three together, and deliveries in flight on a replica SIGKILLed for good are
// finished by the survivors while the balancer routes new requests around it.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Balancer, startBalancer } from './support/balancer.js';
import { Api } from './support/http.js';
import { metricValue } from './support/jobs.js';
import { loginWithMfa } from './support/mfa.js';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';
import { type RunningProcess, spawnPayctl } from './support/processes.js';
import { waitFor } from './support/wait.js';
import { type Receiver, startReceiver } from './support/webhook-receiver.js';

const SHOPPER_LIMIT = 5;
/** DESIGN / ARCHITECTURE: revocations and flag changes reach every replica within 5 s. */
const PROPAGATION_MS = 5_000;
const ADMIN = { email: 'scale-admin@example.test', password: randomBytes(16).toString('hex') };

interface Replica {
  name: string;
  running: RunningProcess;
  url: string;
  api: Api;
}

const cleanups: (() => Promise<void> | void)[] = [];
let database: TestDatabase;
let replicas: Replica[];
let balancer: Balancer;
let receiver: Receiver;
let admin: Api;
let merchant: { id: string; secretKey: string; api: Api };

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function startReplica(name: string, env: Record<string, string>): Promise<Replica> {
  const port = await freePort();
  const running = spawnPayctl(['start'], { ...env, PORT: String(port) });
  cleanups.push(() => {
    if (running.child.exitCode === null && running.child.signalCode === null) running.child.kill('SIGKILL');
  });
  await running.waitFor('payment service listening', 60_000);
  const url = `http://127.0.0.1:${port}`;
  return { name, running, url, api: new Api(url) };
}

/** Requests a replica answered on one route (its own /metrics, read directly, not through nginx). */
async function requestsOn(replica: Replica, method: string, route: string): Promise<number> {
  const text = await (await fetch(`${replica.url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('http_request_duration_seconds_count{')) continue;
    if (line.includes(`method="${method}"`) && line.includes(`route="${route}"`))
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

const requestsOnEach = (method: string, route: string) =>
  Promise.all(replicas.map((r) => requestsOn(r, method, route)));

const alive = () => replicas.filter((r) => r.running.child.exitCode === null && !r.running.child.signalCode);

beforeAll(async () => {
  database = await createTestDatabase();
  cleanups.push(() => database.drop());
  receiver = await startReceiver(() => Date.now());
  cleanups.push(() => receiver.close());
  const env = {
    HOST: '127.0.0.1',
    APP_ENV: 'test',
    DATABASE_URL: database.url,
    // A Redis database of its own: suites that FLUSHDB use 11-15, which would reset the shared limit.
    REDIS_URL: 'redis://127.0.0.1:6379/10',
    BOOTSTRAP_SECRET_KEY: `sk_test_${randomBytes(16).toString('hex')}`,
    BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    TEST_CLOCK: 'true',
    ALLOW_PRIVATE_WEBHOOK_URLS: 'true',
    JOBS_POLL_INTERVAL_MS: '50',
    LOG_LEVEL: 'warn',
    TRUSTED_PROXIES: 'loopback',
    RATE_LIMIT_PER_SHOPPER_PER_MINUTE: String(SHOPPER_LIMIT),
  };
  // The first start migrates the fresh database; the other two start on the migrated one together.
  const first = await startReplica('a', env);
  replicas = [first, ...(await Promise.all([startReplica('b', env), startReplica('c', env)]))];
  balancer = await startBalancer(replicas.map((r) => new URL(r.url).host));
  cleanups.push(() => balancer.stop());

  const api = new Api(balancer.url);
  const login = await loginWithMfa(api, ADMIN, undefined, () => Date.now());
  const token = await api.post<{ token: string }>(
    '/admin/tokens',
    { name: 'scale-out' },
    { key: login.token },
  );
  expect(token.status, token.text).toBe(200);
  admin = api.withKey(token.body.token);
  const created = await admin.post<{ id: string; secret_key: string }>('/admin/merchants', { name: 'Scale' });
  expect(created.status, created.text).toBe(200);
  merchant = {
    id: created.body.id,
    secretKey: created.body.secret_key,
    api: api.withKey(created.body.secret_key),
  };
}, 180_000);

afterAll(async () => {
  for (const replica of replicas ? alive() : []) {
    replica.running.child.kill('SIGTERM');
    await replica.running.exited;
  }
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('three replicas behind nginx (PostgreSQL + Redis)', () => {
  it('spreads requests over all three replicas', async () => {
    const before = await requestsOnEach('GET', '/v1/customers');
    const replies = await Promise.all(Array.from({ length: 30 }, () => merchant.api.get('/v1/customers')));
    expect(replies.map((r) => r.status)).toEqual(Array(30).fill(200));
    const after = await requestsOnEach('GET', '/v1/customers');
    const served = after.map((n, i) => n - (before[i] ?? 0));
    expect(served.reduce((a, b) => a + b, 0)).toBe(30);
    for (const [i, count] of served.entries())
      expect(count, `replica ${replicas[i]?.name}`).toBeGreaterThan(0);
    // Metrics are per process: the balancer does not expose them (deploy/nginx/payments.conf).
    expect((await fetch(`${balancer.url}/metrics`)).status).toBe(404);
  });

  it('applies one shopper limit to the three together, not one per replica', async () => {
    const shopper = (await merchant.api.post<{ id: string }>('/v1/customers', { email: 'limit@example.com' }))
      .body.id;
    const before = await requestsOnEach('POST', '/v1/payment_intents');
    const statuses: number[] = [];
    // One after another, so round robin hands each replica a third of them.
    for (let i = 0; i < SHOPPER_LIMIT * 3; i++) {
      const reply = await merchant.api.post('/v1/payment_intents', {
        amount: 500,
        currency: 'usd',
        customer: shopper,
      });
      statuses.push(reply.status);
    }
    const after = await requestsOnEach('POST', '/v1/payment_intents');
    // Every replica saw more than the limit's third, so per-replica allowances would have let all 15 by.
    for (const [i, n] of after.entries())
      expect(n - (before[i] ?? 0)).toBeGreaterThanOrEqual(SHOPPER_LIMIT / 2);
    expect(statuses.filter((s) => s === 200)).toHaveLength(SHOPPER_LIMIT);
    expect(statuses.slice(SHOPPER_LIMIT)).toEqual(Array(SHOPPER_LIMIT * 2).fill(429));
  });

  it('a key revoked through one replica is refused by every replica within 5 s', async () => {
    const created = await admin.post<{ id: string; secret: string }>('/admin/keys', {
      merchant: merchant.id,
    });
    expect(created.status, created.text).toBe(200);
    const onEach = () =>
      Promise.all(replicas.map((r) => r.api.get('/v1/customers', undefined, { key: created.body.secret })));
    // Every replica has the key in its authentication cache: what must expire is a cached answer.
    expect((await onEach()).map((r) => r.status)).toEqual([200, 200, 200]);
    const started = performance.now();
    const [first] = replicas;
    const revoked = await first!.api.post(`/admin/keys/${created.body.id}/revoke`, {}, { key: admin.key });
    expect(revoked.status, revoked.text).toBe(200);
    await waitFor(
      'every replica to refuse the revoked key',
      async () => (await onEach()).every((r) => r.status === 401),
      PROPAGATION_MS,
    );
    expect(performance.now() - started).toBeLessThan(PROPAGATION_MS);
    const through = await Promise.all(
      Array.from({ length: 6 }, () =>
        new Api(balancer.url).get<{ error?: { code: string } }>('/v1/customers', undefined, {
          key: created.body.secret,
        }),
      ),
    );
    expect(through.map((r) => r.body.error?.code)).toEqual(Array(6).fill('api_key_revoked'));
  });

  it('a kill switch set through one replica stops payments on every replica, and lifting it restores them', async () => {
    const FLAG = 'payments_live_v1';
    const pay = (replica: Replica) =>
      replica.api.post<{ status?: string; error?: { code: string } }>(
        '/v1/payment_intents',
        { amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', confirm: 'true' },
        { key: merchant.secretKey },
      );
    // Each replica has read the flag already (its cache must expire, not be filled for the first time).
    for (const replica of replicas) expect((await pay(replica)).body.status).toBe('succeeded');
    const [, second] = replicas;
    const started = performance.now();
    expect((await second!.api.post(`/api/flags/${FLAG}/kill`, {}, { key: admin.key })).status).toBe(200);
    const refused = await waitFor(
      'every replica to obey the kill',
      async () => {
        const replies = await Promise.all(replicas.map(pay));
        return replies.every((r) => r.status === 503) ? replies : undefined;
      },
      PROPAGATION_MS,
    );
    expect(performance.now() - started).toBeLessThan(PROPAGATION_MS);
    expect(refused.map((r) => r.body.error?.code)).toEqual(Array(3).fill('payments_disabled'));

    expect((await second!.api.post(`/api/flags/${FLAG}/enable`, {}, { key: admin.key })).status).toBe(200);
    await waitFor(
      'every replica to admit payments again',
      async () => (await Promise.all(replicas.map(pay))).every((r) => r.status === 200),
      PROPAGATION_MS,
    );
  });

  it('shares outbound deliveries, each exactly once, and finishes a SIGKILLed replica’s in-flight ones', async () => {
    const endpoint = await merchant.api.post<{ id: string }>('/v1/webhook_endpoints', {
      url: receiver.url,
      enabled_events: ['customer.created'],
    });
    expect(endpoint.status, endpoint.text).toBe(200);
    const delivered = async (replica: Replica) =>
      metricValue(await (await fetch(`${replica.url}/metrics`)).text(), 'webhook_deliveries_total', {
        status: 'succeeded',
      }) ?? 0;
    const createCustomers = async (prefix: string, count: number) => {
      const ids: string[] = [];
      for (let batch = 0; batch < count / 10; batch++) {
        const replies = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            merchant.api.post<{ id: string }>('/v1/customers', {
              email: `${prefix}${batch}-${i}@example.com`,
            }),
          ),
        );
        for (const reply of replies) {
          expect(reply.status, reply.text).toBe(200);
          ids.push(reply.body.id);
        }
      }
      return ids;
    };

    // 1. 90 events created through the balancer: each delivered exactly once, by all three together.
    receiver.respond = () => ({ status: 200, delayMs: 5 });
    const first = await createCustomers('spread', 90);
    await waitFor(
      'every replica to record the 90 deliveries',
      async () => {
        const counts = await Promise.all(replicas.map(delivered));
        return counts.reduce((a, b) => a + b, 0) >= 90;
      },
      30_000,
    );
    const perReplica = await Promise.all(replicas.map(delivered));
    expect(perReplica.reduce((a, b) => a + b, 0)).toBe(90);
    for (const [i, n] of perReplica.entries())
      expect(n, `deliveries by ${replicas[i]?.name}`).toBeGreaterThan(0);
    expect(receiver.received).toHaveLength(90);
    expect(new Set(receiver.received.map((r) => r.event.data.object.id))).toEqual(new Set(first));

    // 2. Deliveries held 2 s by the receiver, so replica c is mid-delivery when it is SIGKILLed.
    receiver.respond = () => ({ status: 200, delayMs: 2_000 });
    const second = await createCustomers('killed', 60);
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    cleanups.push(() => db.end());
    const victim = replicas[2] as Replica;
    const held = await db.query<{ n: string }>('select count(*) as n from jobs where locked_by like $1', [
      `%:${victim.running.child.pid}:%`,
    ]);
    victim.running.child.kill('SIGKILL');
    await victim.running.exited;
    expect(Number(held.rows[0]?.n), 'jobs replica c held when it was killed').toBeGreaterThan(0);

    // The balancer routes new requests around the dead replica (connection refused: never sent).
    receiver.respond = () => ({ status: 200 });
    const third = await createCustomers('after', 30);
    // The dead worker's leases (webhook timeout + 30 s) pass on the survivors' clocks.
    for (const replica of alive()) {
      expect((await replica.api.post('/_test/clock', { advance_seconds: 120 })).status).toBe(200);
    }
    const expected = new Set([...first, ...second, ...third]);
    await waitFor(
      'every event delivered after the kill',
      () => [...expected].every((id) => receiver.received.some((r) => r.event.data.object.id === id)),
      45_000,
    );
    // Nothing is delivered that was not created, and every delivery row ends succeeded.
    const ids = new Set(receiver.received.map((r) => r.event.data.object.id));
    expect(ids).toEqual(expected);
    await waitFor(
      'every delivery recorded as succeeded',
      async () => {
        const { rows } = await db.query<{ status: string; n: string }>(
          'select status, count(*) as n from webhook_deliveries group by status',
        );
        return rows.length === 1 && rows[0]?.status === 'succeeded' && Number(rows[0].n) === expected.size;
      },
      30_000,
    );
  }, 150_000);
});
