// Brute force and IP blocking (runbook 003, issue 9): more than 5 failed authentications in 5 minutes from
// one client address (API keys and operator logins alike) block it for an hour on the test clock; manual
// block and unblock through the admin API, audited and counted; blocks live in PostgreSQL, so FLUSHDB lifts
// nothing; X-Forwarded-For is believed from TRUSTED_PROXIES only.
import http from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { metricValue } from './support/jobs.js';
import { ADMIN_EMAIL, startTestService, type TestService, testDatabaseKind } from './support/service.js';

const REDIS_URL = `redis://127.0.0.1:6379/${testDatabaseKind() === 'postgres' ? 14 : 13}`;

type ErrorBody = { error: { type: string; code?: string; param?: string } };
type AuditEntry = { action: string; actor: { type: string; id: string | null }; resource: { id: string } };

let t: TestService;
beforeAll(async () => {
  // 127.0.0.1 is the proxy: a test names the client in X-Forwarded-For, so blocks never hit the harness.
  t = await startTestService({ env: { AUTH_FAILURES_ALLOWED: '', TRUSTED_PROXIES: '127.0.0.1', REDIS_URL } });
});
afterAll(async () => {
  await t?.close();
});

const via = (client: string) => ({ headers: { 'x-forwarded-for': `203.0.113.250, ${client}` } });
const badKey = `sk_test_${'W'.repeat(30)}abcd`;

async function advanceClock(seconds: number) {
  expect((await t.api.post('/_test/clock', { advance_seconds: seconds })).status).toBe(200);
}

async function auditOf(ip: string): Promise<AuditEntry[]> {
  const reply = await t.admin.get<{ data: AuditEntry[] }>('/admin/audit', { resource: ip });
  return reply.body.data;
}

/** A request with the merchant's valid key, as `client`; 200 unless the address is blocked. */
const customersAs = (client: string) => t.merchant.get<ErrorBody>('/v1/customers', undefined, via(client));

describe('the brute-force rule', () => {
  it('blocks an address for an hour after its sixth failure in five minutes (keys and logins alike)', async () => {
    const client = '198.51.100.10';
    for (let attempt = 1; attempt <= 3; attempt++) {
      expect((await t.api.get('/v1/customers', undefined, { key: badKey, ...via(client) })).status).toBe(401);
      const login = await t.api.post(
        '/admin/login',
        { email: ADMIN_EMAIL, password: `wrong ${attempt}` },
        via(client),
      );
      expect(login.status).toBe(401);
    }
    const blocked = await customersAs(client);
    expect(blocked.status).toBe(403);
    expect(blocked.body.error.code).toBe('ip_blocked');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(3500);
    // Everything from the address is refused, a correct login included; other addresses are served.
    expect(
      (await t.api.post('/admin/login', { email: ADMIN_EMAIL, password: 'x' }, via(client))).status,
    ).toBe(403);
    expect((await customersAs('198.51.100.11')).status).toBe(200);
    expect((await t.merchant.get('/v1/customers')).status).toBe(200);

    expect(await auditOf(client)).toMatchObject([
      { action: 'ip.block', actor: { type: 'system', id: null } },
    ]);
    const list = await t.admin.get<{ data: { ip: string; reason: string }[] }>('/admin/ip_blocks');
    expect(list.body.data).toContainEqual(expect.objectContaining({ ip: client, reason: 'brute_force' }));
    const metrics = await t.api.get('/metrics');
    expect(metricValue(metrics.text, 'security_ip_blocks_total', { reason: 'brute_force' })).toBe(1);
    expect(metricValue(metrics.text, 'security_blocked_requests_total')).toBeGreaterThanOrEqual(2);

    await advanceClock(59 * 60);
    expect((await customersAs(client)).status).toBe(403);
    await advanceClock(2 * 60);
    expect((await customersAs(client)).status).toBe(200);
  });

  it('forgets failures older than five minutes, and does not count a missing key', async () => {
    const client = '198.51.100.20';
    for (let attempt = 1; attempt <= 5; attempt++) {
      expect((await t.api.get('/v1/customers', undefined, { key: badKey, ...via(client) })).status).toBe(401);
    }
    await advanceClock(301);
    expect((await t.api.get('/v1/customers', undefined, { key: badKey, ...via(client) })).status).toBe(401);
    for (let attempt = 1; attempt <= 10; attempt++) {
      expect((await t.api.get<ErrorBody>('/v1/customers', undefined, via(client))).body.error.code).toBe(
        'api_key_missing',
      );
    }
    expect((await customersAs(client)).status).toBe(200);
  });
});

describe('manual blocks', () => {
  it('blocks and unblocks through the admin API, audited, and a block survives FLUSHDB', async () => {
    const client = '2001:db8::7';
    const block = await t.admin.post<{ ip: string; blocked_until: number | null; reason: string }>(
      '/admin/ip_blocks',
      { ip: '2001:DB8:0::7', note: 'INC-2024-001' },
    );
    expect(block.status, block.text).toBe(200);
    expect(block.body).toMatchObject({
      object: 'ip_block',
      ip: client,
      reason: 'manual',
      blocked_until: null,
    });
    const refused = await customersAs(client);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('retry-after')).toBeNull();

    const redis = new Redis(REDIS_URL);
    await redis.flushdb();
    redis.disconnect();
    expect((await customersAs(client)).status).toBe(403);

    const unblocked = await t.admin.delete(`/admin/ip_blocks/${encodeURIComponent(client)}`);
    expect(unblocked.status).toBe(200);
    expect((await customersAs(client)).status).toBe(200);
    const me = await t.admin.get<{ id: string }>('/admin/me');
    expect((await auditOf(client)).map((entry) => [entry.action, entry.actor.id])).toEqual([
      ['ip.unblock', me.body.id],
      ['ip.block', me.body.id],
    ]);
    const metrics = await t.api.get('/metrics');
    expect(metricValue(metrics.text, 'security_ip_blocks_total', { reason: 'manual' })).toBe(1);
    expect(metricValue(metrics.text, 'security_ip_unblocks_total')).toBe(1);
  });

  it('ends a block given a duration, and refuses bad input naming the parameter', async () => {
    const block = await t.admin.post('/admin/ip_blocks', { ip: '198.51.100.30', duration_seconds: 600 });
    expect(block.status).toBe(200);
    expect(Number((await customersAs('198.51.100.30')).headers.get('retry-after'))).toBeLessThanOrEqual(600);
    await advanceClock(601);
    expect((await customersAs('198.51.100.30')).status).toBe(200);
    const bad = await t.admin.post<ErrorBody>('/admin/ip_blocks', { ip: '10.1' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('ip');
    const short = await t.admin.post<ErrorBody>('/admin/ip_blocks', {
      ip: '198.51.100.31',
      duration_seconds: 1,
    });
    expect(short.body.error.param).toBe('duration_seconds');
    expect((await t.admin.delete('/admin/ip_blocks/198.51.100.99')).status).toBe(404);
  });
});

describe('client addresses', () => {
  /** A request sent from `localAddress` (any 127/8 address reaches the loopback listener). */
  function fromAddress(localAddress: string, headers: Record<string, string>): Promise<number> {
    return new Promise((resolve, reject) => {
      const request = http.request(
        `${t.url}/v1/customers`,
        {
          localAddress,
          headers: { authorization: `Bearer ${headers.key}`, 'x-forwarded-for': headers.xff ?? '' },
        },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      request.on('error', reject);
      request.end();
    });
  }

  it('believes X-Forwarded-For only from TRUSTED_PROXIES', async () => {
    // 127.0.0.2 is not a trusted proxy: its forged header is ignored and the failures are its own.
    for (let attempt = 1; attempt <= 6; attempt++) {
      expect(await fromAddress('127.0.0.2', { key: badKey, xff: '198.51.100.40' })).toBe(401);
    }
    expect(await fromAddress('127.0.0.2', { key: t.secretKey, xff: '198.51.100.41' })).toBe(403);
    expect((await customersAs('198.51.100.40')).status).toBe(200);
    expect((await auditOf('127.0.0.2')).map((entry) => entry.action)).toEqual(['ip.block']);
    await t.admin.delete('/admin/ip_blocks/127.0.0.2');
  });

  it('refuses a TRUSTED_PROXIES entry that is not an address or CIDR, naming it', () => {
    expect(loadConfig({ TRUSTED_PROXIES: '10.0.0.0/8, ::1, loopback' }).TRUSTED_PROXIES).toHaveLength(3);
    expect(() => loadConfig({ TRUSTED_PROXIES: '10.0.0.0/8,proxy.internal' })).toThrow(ConfigError);
    expect(() => loadConfig({ TRUSTED_PROXIES: '10.0.0.0/33' })).toThrow(/TRUSTED_PROXIES/);
  });
});
