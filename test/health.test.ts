// The health endpoints the runbooks use (000: /health/payment, /health/detailed; 002: /health/payments),
// the Kubernetes probes, and that Redis being down degrades the service without stopping it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './support/service.js';

type Json = Record<string, unknown>;

let t: TestService;
beforeAll(async () => {
  t = await startTestService({ env: { REDIS_URL: 'redis://127.0.0.1:6379' } });
});
afterAll(async () => {
  await t?.close();
});

describe('health endpoints', () => {
  it('answers liveness on /health', async () => {
    const reply = await t.api.get<Json>('/health');
    expect(reply.status).toBe(200);
    expect(reply.body.status).toBe('healthy');
  });

  it('is ready, then answers 503 on /health/ready while draining', async () => {
    expect((await t.api.get('/health/ready')).status).toBe(200);
    t.service.health.draining = true;
    try {
      const draining = await t.api.get<Json>('/health/ready');
      expect(draining.status).toBe(503);
      expect(draining.body).toMatchObject({ status: 'not_ready', draining: true });
      // Liveness stays up: a draining pod is finishing work, not dead.
      expect((await t.api.get('/health')).status).toBe(200);
    } finally {
      t.service.health.draining = false;
    }
    expect((await t.api.get('/health/ready')).status).toBe(200);
  });

  it.each(['/health/payments', '/health/payment'])('serves runbook 002 JSON on %s', async (path) => {
    const reply = await t.api.get<Json>(path);
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.body).sort()).toEqual(['checks', 'metrics', 'status', 'timestamp']);
    expect(reply.body.status).toBe('healthy');
    const timestamp = reply.body.timestamp as string;
    expect(new Date(timestamp).toISOString()).toBe(timestamp);
    const checks = reply.body.checks as Json;
    expect(Object.keys(checks).sort()).toEqual([
      'database',
      'feature_flag',
      'paypal_api',
      'provider_circuits',
      'redis',
      'stripe_api',
      'webhook_endpoint',
    ]);
    expect(checks.database).toBe('connected');
    expect(checks.stripe_api).toBe('connected');
    expect(checks.paypal_api).toBe('connected');
    expect(checks.provider_circuits).toBe('closed');
    expect(checks.redis).toBe('connected');
    for (const value of Object.values(checks)) expect(typeof value).toBe('string');
    const metrics = reply.body.metrics as Json;
    expect(Object.keys(metrics).sort()).toEqual([
      'response_time_ms',
      'success_rate',
      'transactions_per_minute',
    ]);
    expect(typeof metrics.response_time_ms).toBe('number');
    expect(typeof metrics.transactions_per_minute).toBe('number');
    expect(metrics.success_rate).toBeGreaterThanOrEqual(0);
    expect(metrics.success_rate).toBeLessThanOrEqual(1);
  });

  it('lists database with pool usage, the job runner and redis on /health/detailed', async () => {
    const reply = await t.api.get<Json>('/health/detailed');
    expect(reply.status).toBe(200);
    expect(reply.body.status).toBe('healthy');
    const checks = reply.body.checks as Record<string, { detail?: Record<string, Json> }>;
    expect(checks.database).toMatchObject({ status: 'up', state: 'connected' });
    const pool = checks.database?.detail?.pool;
    expect(pool?.size).toBeGreaterThanOrEqual(1);
    expect(typeof pool?.inUse).toBe('number');
    expect(checks.job_runner).toMatchObject({ status: 'up', state: 'running' });
    expect(checks.redis).toMatchObject({ status: 'up', state: 'connected' });
    expect(checks.redis?.detail?.used_memory_bytes).toBeGreaterThan(0);
  });
});

describe('with Redis unreachable', () => {
  let down: TestService;
  beforeAll(async () => {
    down = await startTestService({ env: { REDIS_URL: 'redis://127.0.0.1:1' } });
  });
  afterAll(async () => {
    await down?.close();
  });

  it('still starts and serves, reporting redis down and the service degraded, not unhealthy', async () => {
    const customer = await down.merchant.post<Json>('/v1/customers', { name: 'No Redis' });
    expect(customer.status).toBe(200);
    const detailed = await down.api.get<{ status: string; checks: Record<string, Json> }>('/health/detailed');
    expect(detailed.status).toBe(200);
    expect(detailed.body.status).toBe('degraded');
    expect(detailed.body.checks.redis?.status).toBe('down');
    const payments = await down.api.get<{ status: string; checks: Json }>('/health/payments');
    expect(payments.status).toBe(200);
    expect(payments.body.status).toBe('degraded');
    expect(payments.body.checks.redis).not.toBe('connected');
    expect((await down.api.get('/health/ready')).status).toBe(200);
    const metrics = await down.api.get('/metrics');
    expect(metrics.status).toBe(200);
  });
});
