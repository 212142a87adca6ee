// /metrics as Prometheus scrapes it: process metrics, the request histogram by route template, and the
// live gauges runbooks 000 and 003 alert on (pool usage, job queue depth, Redis memory).
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricValue as sample } from './support/jobs.js';
import { startTestService, type TestService, testDatabaseKind } from './support/service.js';

let t: TestService;
beforeAll(async () => {
  t = await startTestService({ env: { REDIS_URL: 'redis://127.0.0.1:6379' } });
});
afterAll(async () => {
  await t?.close();
});

describe('/metrics', () => {
  it('is Prometheus text with process metrics', async () => {
    const reply = await t.api.get('/metrics');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sample(reply.text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(sample(reply.text, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(reply.text).toMatch(/^# TYPE http_request_duration_seconds histogram$/m);
  });

  it('labels request durations by route template and status, never by id', async () => {
    const created = await t.merchant.post<{ id: string }>('/v1/customers', { name: 'Metered' });
    expect(created.status).toBe(200);
    expect((await t.merchant.get(`/v1/customers/${created.body.id}`)).status).toBe(200);
    expect((await t.merchant.get('/v1/customers/cus_doesnotexist')).status).toBe(404);
    expect((await t.api.get('/no/such/route/abc123')).status).toBe(404);

    const text = (await t.api.get('/metrics')).text;
    const found = sample(text, 'http_request_duration_seconds_bucket', {
      method: 'GET',
      route: '/v1/customers/:id',
      status_code: '200',
      le: '+Inf',
    });
    expect(found).toBe(1);
    const missing = sample(text, 'http_request_duration_seconds_count', {
      method: 'GET',
      route: '/v1/customers/:id',
      status_code: '404',
    });
    expect(missing).toBe(1);
    expect(
      sample(text, 'http_request_duration_seconds_count', {
        method: 'POST',
        route: '/v1/customers',
        status_code: '200',
      }),
    ).toBeGreaterThanOrEqual(1);
    // Ids and unknown paths never become label values: that would grow the series without bound.
    expect(text).not.toContain(created.body.id);
    expect(text).not.toContain('cus_doesnotexist');
    expect(text).not.toContain('abc123');
  });

  it('exports database pool usage, job queue depth and Redis memory', async () => {
    const text = (await t.api.get('/metrics')).text;
    const pool = sample(text, 'database_connection_pool_usage');
    expect(pool).toBeGreaterThanOrEqual(0);
    expect(pool).toBeLessThanOrEqual(1);
    for (const state of ['ready', 'scheduled', 'dead']) {
      expect(sample(text, 'jobs_queue_depth', { state })).toBeGreaterThanOrEqual(0);
    }
    expect(sample(text, 'redis_memory_usage_bytes')).toBeGreaterThan(0);
  });
});

describe.runIf(testDatabaseKind() === 'postgres')('/metrics with the pool exhausted (PostgreSQL)', () => {
  it('still answers, reporting the pool as fully used', async () => {
    const busy = await startTestService({ env: { DB_POOL_SIZE: '1', DB_POOL_TIMEOUT: '30' } });
    try {
      let held = true;
      const holder = sql`select pg_sleep(5)`.execute(busy.service.database.db).finally(() => {
        held = false;
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const reply = await busy.api.get('/metrics');
      expect(held).toBe(true);
      expect(reply.status).toBe(200);
      expect(sample(reply.text, 'database_connection_pool_usage')).toBe(1);
      await holder;
    } finally {
      await busy.close();
    }
  });
});
