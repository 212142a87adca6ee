// Rate limits over HTTP (issue 9): per API key at the real default (100 a second) and a key's own limit,
// per shopper on payment creation at the real default (100 a minute, by customer or shopper_ip), Stripe's
// 429 rate_limit_error with Retry-After; through Redis, and still limiting after FLUSHDB and with Redis
// unreachable (the in-process insurance limiter: never failing closed, never failing open).
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api, Reply } from './support/http.js';
import { metricValue } from './support/jobs.js';
import { startTestService, type TestService, testDatabaseKind } from './support/service.js';

// Each project (PGlite, PostgreSQL) flushes its own Redis database, so the two runs never meet.
const REDIS_URL = `redis://127.0.0.1:6379/${testDatabaseKind() === 'postgres' ? 12 : 11}`;
/** The real defaults, not the suites' raised ones. */
const DEFAULT_LIMITS = { RATE_LIMIT_PER_KEY_PER_SECOND: '', RATE_LIMIT_PER_SHOPPER_PER_MINUTE: '' };

type ErrorBody = { error: { type: string; code?: string; param?: string; message: string } };

let t: TestService;
let redis: Redis;
beforeAll(async () => {
  t = await startTestService({ env: { REDIS_URL, ...DEFAULT_LIMITS } });
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  redis?.disconnect();
  await t?.close();
});

async function newKey(service: TestService, perSecond?: number): Promise<{ id: string; api: Api }> {
  const key = await service.admin.post<{ id: string; secret: string }>('/admin/keys', {
    merchant: service.merchantId,
  });
  expect(key.status, key.text).toBe(200);
  if (perSecond !== undefined) {
    const set = await service.admin.post(`/admin/keys/${key.body.id}/rate_limit`, { per_second: perSecond });
    expect(set.status, set.text).toBe(200);
  }
  return { id: key.body.id, api: service.api.withKey(key.body.secret) };
}

/** `count` requests at once from one key; a missing customer keeps each one a single cheap read. */
async function burst(api: Api, count: number): Promise<Reply<ErrorBody>[]> {
  return Promise.all(Array.from({ length: count }, () => api.get<ErrorBody>('/v1/customers/cus_missing')));
}

function tally(replies: Reply<ErrorBody>[]) {
  const limited = replies.filter((reply) => reply.status === 429);
  const other = replies.filter((reply) => reply.status !== 429 && reply.status !== 404);
  return { limited, passed: replies.length - limited.length, unexpected: other.map((r) => r.status) };
}

function expectRateLimitError(reply: Reply<ErrorBody>) {
  expect(reply.status).toBe(429);
  expect(reply.body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit' });
  expect(Number(reply.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
}

describe('per API key', () => {
  it('refuses the 101st request of a key within its second (the default 100) with 429 and Retry-After', async () => {
    const { id, api } = await newKey(t);
    const read = await t.admin.get<{ per_second: number; default: boolean }>(`/admin/keys/${id}/rate_limit`);
    expect(read.body).toMatchObject({ per_second: 100, default: true });
    // A burst of 100 cannot be relied on to fit in one second on a loaded machine, so the window is
    // held open in Redis (the shared counter every replica reads) with 99 requests already counted.
    await redis.set(`rl:key:100:${id}`, 99, 'EX', 30);
    expect((await api.get('/v1/customers/cus_missing')).status).toBe(404);
    const refused = await api.get<ErrorBody>('/v1/customers/cus_missing');
    expectRateLimitError(refused);
    expect(refused.headers.get('stripe-should-retry')).toBe('true');
    // The allowance is the key's: another key of the same merchant is served meanwhile.
    const other = await newKey(t);
    expect((await other.api.get('/v1/customers/cus_missing')).status).toBe(404);
    const metrics = await t.api.get('/metrics');
    expect(metricValue(metrics.text, 'rate_limited_requests_total', { limit: 'per_key' })).toBeGreaterThan(0);
  });

  it("applies a key's own limit, set and cleared through the admin API", async () => {
    const { id, api } = await newKey(t, 5);
    const read = await t.admin.get<{ per_second: number; default: boolean }>(`/admin/keys/${id}/rate_limit`);
    expect(read.body).toMatchObject({ object: 'api_key_rate_limit', per_second: 5, default: false });
    // The key's counter is its own limit's: 4 counted in a held-open window, the 5th passes, the 6th not.
    await redis.set(`rl:key:5:${id}`, 4, 'EX', 30);
    expect((await api.get('/v1/customers/cus_missing')).status).toBe(404);
    expectRateLimitError(await api.get<ErrorBody>('/v1/customers/cus_missing'));
    const cleared = await t.admin.post(`/admin/keys/${id}/rate_limit`, { per_second: '' });
    expect(cleared.body).toMatchObject({ per_second: 100, default: true });
    const bad = await t.admin.post<ErrorBody>(`/admin/keys/${id}/rate_limit`, { per_second: 0 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('per_second');
    const missing = await t.admin.post<ErrorBody>('/admin/keys/key_missing/rate_limit', { per_second: 5 });
    expect(missing.status).toBe(404);
    const audit = await t.admin.get<{ data: { action: string }[] }>('/admin/audit', { resource: id });
    expect(audit.body.data.filter((entry) => entry.action === 'api_key.rate_limit')).toHaveLength(2);
  });

  it('still limits after FLUSHDB wipes the counters mid-run', async () => {
    const { api } = await newKey(t, 5);
    expect(tally(await burst(api, 20)).limited.length).toBeGreaterThan(0);
    expect(await redis.dbsize()).toBeGreaterThan(0);
    await redis.flushdb();
    const after = tally(await burst(api, 20));
    expect(after.unexpected).toEqual([]);
    expect(after.limited.length).toBeGreaterThan(0);
    expect(after.passed).toBeGreaterThan(0);
  });
});

describe('per shopper on payment creation', () => {
  async function createPayments(api: Api, count: number, fields: Record<string, unknown>) {
    return Promise.all(
      Array.from({ length: count }, () =>
        api.post<ErrorBody & { id: string }>('/v1/payment_intents', {
          amount: 1000,
          currency: 'usd',
          ...fields,
        }),
      ),
    );
  }

  it('allows 100 payments a minute per customer (the default), then 429 naming customer', async () => {
    const { api } = await newKey(t, 100_000);
    const customer = await api.post<{ id: string }>('/v1/customers', { email: 'busy@example.com' });
    const replies = await createPayments(api, 101, { customer: customer.body.id });
    expect(replies.filter((reply) => reply.status === 200)).toHaveLength(100);
    const refused = replies.find((reply) => reply.status === 429) as Reply<ErrorBody>;
    expectRateLimitError(refused);
    expect(refused.body.error.param).toBe('customer');
    // Another customer of the same merchant is a different shopper.
    const other = await api.post<{ id: string }>('/v1/customers', { email: 'calm@example.com' });
    expect((await createPayments(api, 1, { customer: other.body.id }))[0]?.status).toBe(200);
  });

  it('keys a payment without a customer by shopper_ip, and stores the address on the payment', async () => {
    const { api } = await newKey(t, 100_000);
    const replies = await createPayments(api, 101, { shopper_ip: '198.51.100.23' });
    expect(replies.filter((reply) => reply.status === 200)).toHaveLength(100);
    expect(replies.find((reply) => reply.status === 429)?.body.error.param).toBe('shopper_ip');
    const created = replies.find((reply) => reply.status === 200) as Reply<{ id: string }>;
    const row = await t.service.database.db
      .selectFrom('payment_intents')
      .select('shopper_ip')
      .where('id', '=', created.body.id)
      .executeTakeFirstOrThrow();
    expect(row.shopper_ip).toBe('198.51.100.23');
    // Another address is another shopper; an address is normalised (IPv4-mapped IPv6 is the IPv4 one).
    const mapped = await createPayments(api, 1, { shopper_ip: '::ffff:198.51.100.24' });
    expect(mapped[0]?.status).toBe(200);
    const bad = await createPayments(api, 1, { shopper_ip: 'not-an-address' });
    expect(bad[0]?.status).toBe(400);
    expect(bad[0]?.body.error.param).toBe('shopper_ip');
  });
});

describe('Redis unreachable', () => {
  it('limits in process instead (never failing closed)', async () => {
    const alone = await startTestService({ env: { REDIS_URL: 'redis://127.0.0.1:1', ...DEFAULT_LIMITS } });
    try {
      const { api } = await newKey(alone, 5);
      const { limited, passed, unexpected } = tally(await burst(api, 20));
      expect(unexpected).toEqual([]);
      expect(passed).toBeGreaterThanOrEqual(5);
      expect(limited.length).toBeGreaterThan(0);
    } finally {
      await alone.close();
    }
  });
});
