// Merchant authentication over HTTP: missing, malformed and unknown keys, Bearer and Basic, revocation,
// expiry and rotation on the test clock, key kinds and scopes, test/live separation, and the metric.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api } from './support/http.js';
import { startTestService, type TestService } from './support/service.js';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t.close();
});

type ErrorBody = { error: { type: string; code?: string; message: string; param?: string } };
type CreatedKey = { id: string; secret: string; kind: string; livemode: boolean };

async function createKey(body: Record<string, unknown>): Promise<CreatedKey> {
  const reply = await t.admin.post<CreatedKey>('/admin/keys', { merchant: t.merchantId, ...body });
  expect(reply.status, reply.text).toBe(200);
  return reply.body;
}

async function advanceClock(seconds: number) {
  const reply = await t.api.post('/_test/clock', { advance_seconds: seconds });
  expect(reply.status).toBe(200);
}

function listCustomers(key: string | undefined, headers?: Record<string, string>) {
  return t.api.get<ErrorBody & { data: unknown[] }>('/v1/customers', undefined, { key, headers });
}

function expectUnauthenticated(reply: { status: number; body: ErrorBody }, code?: string) {
  expect(reply.status).toBe(401);
  expect(reply.body.error.type).toBe('authentication_error');
  if (code) expect(reply.body.error.code).toBe(code);
}

/** Polls for up to five seconds: a revocation must reach the two-second key cache by then. */
async function eventuallyRefused(api: Api, path: string): Promise<number> {
  const started = Date.now();
  for (;;) {
    const reply = await api.get(path);
    if (reply.status === 401 || Date.now() - started > 5_000) return reply.status;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('merchant authentication', () => {
  it('answers 401 authentication_error without a key', async () => {
    const reply = await listCustomers(undefined);
    expectUnauthenticated(reply, 'api_key_missing');
    expect(reply.headers.get('request-id')).toMatch(/^req_/);
  });

  it.each([
    ['an unknown key', `sk_test_${'Z'.repeat(30)}wxyz`],
    ['a malformed key', 'not-a-key-at-all-but-long-enough-1234'],
    ['a short malformed key', 'abc'],
    ['a key of an unknown kind', `xx_test_${'Q'.repeat(30)}9876`],
  ])('refuses %s with 401 and never echoes the whole key', async (_case, key) => {
    const reply = await listCustomers(key);
    expectUnauthenticated(reply, 'api_key_invalid');
    expect(reply.text).not.toContain(key);
    expect(reply.body.error.message).toMatch(/^Invalid API Key provided: /);
  });

  it('accepts the key as a Bearer token and as the HTTP Basic user name with an empty password', async () => {
    expect((await listCustomers(t.secretKey)).status).toBe(200);
    const basic = `Basic ${Buffer.from(`${t.secretKey}:`).toString('base64')}`;
    expect((await listCustomers(undefined, { authorization: basic })).status).toBe(200);
    const basicUnknown = `Basic ${Buffer.from(`sk_test_${'N'.repeat(32)}:`).toString('base64')}`;
    expectUnauthenticated(await listCustomers(undefined, { authorization: basicUnknown }), 'api_key_invalid');
    expectUnauthenticated(await listCustomers(undefined, { authorization: 'Digest abc' }));
  });

  it('makes BOOTSTRAP_SECRET_KEY a working key of a default merchant', async () => {
    const reply = await listCustomers(t.config.BOOTSTRAP_SECRET_KEY);
    expect(reply.status).toBe(200);
  });

  it('refuses a revoked key within the two-second cache', async () => {
    const key = await createKey({});
    const api = t.api.withKey(key.secret);
    expect((await api.get('/v1/customers')).status).toBe(200);
    const revoked = await t.admin.post<{ revoked_at: number | null }>(`/admin/keys/${key.id}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked_at).not.toBeNull();
    expect(await eventuallyRefused(api, '/v1/customers')).toBe(401);
    expectUnauthenticated(await api.get('/v1/customers'), 'api_key_revoked');
    const again = await t.admin.post<ErrorBody>(`/admin/keys/${key.id}/revoke`);
    expect(again.status).toBe(400);
    expect(again.body.error.param).toBe('id');
    expect((await t.admin.post<ErrorBody>('/admin/keys/key_doesnotexist/revoke')).status).toBe(404);
  });

  it('refuses a key once it has expired on the test clock', async () => {
    const key = await createKey({ expires_in_days: 1 });
    const api = t.api.withKey(key.secret);
    expect((await api.get('/v1/customers')).status).toBe(200);
    await advanceClock(2 * 86_400);
    expectUnauthenticated(await api.get('/v1/customers'), 'api_key_expired');
  });

  it('keeps a rotated key working through its overlap and refuses it after', async () => {
    const old = await createKey({ name: 'rotating' });
    const rotated = await t.admin.post<CreatedKey & { previous: { id: string } }>(
      `/admin/keys/${old.id}/rotate`,
      { overlap_seconds: 3600 },
    );
    expect(rotated.status).toBe(200);
    expect(rotated.body.previous.id).toBe(old.id);
    expect(rotated.body.secret).not.toBe(old.secret);
    expect((await listCustomers(old.secret)).status).toBe(200);
    expect((await listCustomers(rotated.body.secret)).status).toBe(200);
    await advanceClock(1800);
    expect((await listCustomers(old.secret)).status).toBe(200);
    await advanceClock(1801);
    expectUnauthenticated(await listCustomers(old.secret), 'api_key_expired');
    expect((await listCustomers(rotated.body.secret)).status).toBe(200);
    const bad = await t.admin.post<ErrorBody>(`/admin/keys/${old.id}/rotate`, { overlap_seconds: -5 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('overlap_seconds');
  });

  it('refuses a publishable key on /v1/customers with 403 permission_error', async () => {
    const reply = await t.api.post<ErrorBody>('/v1/customers', { name: 'x' }, { key: t.publishableKey });
    expect(reply.status).toBe(403);
    expect(reply.body.error.type).toBe('permission_error');
    expect((await listCustomers(t.publishableKey)).status).toBe(403);
  });

  it('lets a restricted key with customers:read list but not create customers', async () => {
    const key = await createKey({ kind: 'restricted', scopes: ['customers:read'] });
    expect(key.secret).toMatch(/^rk_test_/);
    const before = await t.merchant.get<{ data: unknown[] }>('/v1/customers', { limit: 100 });
    expect((await listCustomers(key.secret)).status).toBe(200);
    const create = await t.api.post<ErrorBody>('/v1/customers', { name: 'no' }, { key: key.secret });
    expect(create.status).toBe(403);
    expect(create.body.error).toMatchObject({ type: 'permission_error', code: 'insufficient_scope' });
    const after = await t.merchant.get<{ data: unknown[] }>('/v1/customers', { limit: 100 });
    expect(after.body.data.length).toBe(before.body.data.length);
  });

  it.each([
    ['no scopes', { kind: 'restricted' }, 'scopes'],
    ['an unknown scope', { kind: 'restricted', scopes: ['everything:write'] }, 'scopes[0]'],
    ['scopes on a secret key', { kind: 'secret', scopes: ['customers:read'] }, 'scopes'],
    ['an unknown kind', { kind: 'root' }, 'kind'],
    ['an unknown merchant', { merchant: 'acct_nobody' }, 'merchant'],
    ['a zero expiry', { expires_in_days: 0 }, 'expires_in_days'],
  ])(
    'refuses to create a key with %s, naming the parameter and creating nothing',
    async (_c, body, param) => {
      const before = await t.admin.get<{ data: unknown[] }>('/admin/keys');
      const reply = await t.admin.post<ErrorBody>('/admin/keys', { merchant: t.merchantId, ...body });
      expect(reply.status).toBeGreaterThanOrEqual(400);
      expect(reply.status).toBeLessThan(500);
      expect(reply.body.error.param).toBe(param);
      const after = await t.admin.get<{ data: unknown[] }>('/admin/keys');
      expect(after.body.data.length).toBe(before.body.data.length);
    },
  );

  it("keeps test-mode and live-mode customers of one merchant out of each other's sight", async () => {
    const live = await createKey({ livemode: true });
    expect(live.secret).toMatch(/^sk_live_/);
    const liveApi = t.api.withKey(live.secret);
    const testCustomer = await t.merchant.post<{ id: string; livemode: boolean }>('/v1/customers', {
      name: 'test side',
    });
    const liveCustomer = await liveApi.post<{ id: string; livemode: boolean }>('/v1/customers', {
      name: 'live side',
    });
    expect(testCustomer.body.livemode).toBe(false);
    expect(liveCustomer.body.livemode).toBe(true);
    expect((await liveApi.get(`/v1/customers/${testCustomer.body.id}`)).status).toBe(404);
    expect((await t.merchant.get(`/v1/customers/${liveCustomer.body.id}`)).status).toBe(404);
    const liveIds = (await liveApi.get<{ data: { id: string }[] }>('/v1/customers')).body.data.map(
      (c) => c.id,
    );
    const testIds = (await t.merchant.get<{ data: { id: string }[] }>('/v1/customers')).body.data.map(
      (c) => c.id,
    );
    expect(liveIds).toEqual([liveCustomer.body.id]);
    expect(testIds).toContain(testCustomer.body.id);
    expect(testIds).not.toContain(liveCustomer.body.id);
  });

  it('lists keys redacted, never with their secrets', async () => {
    const key = await createKey({ name: 'listed' });
    const list = await t.admin.get<{ data: { id: string; redacted: string }[] }>('/admin/keys', {
      merchant: t.merchantId,
    });
    const found = list.body.data.find((k) => k.id === key.id);
    expect(found?.redacted).toBe(`sk_test_...${key.secret.slice(-4)}`);
    expect(list.text).not.toContain(key.secret);
  });

  it('counts failures in api_authentication_failures_total', async () => {
    const read = async () => {
      const text = (await t.api.get('/metrics')).text;
      return [...text.matchAll(/^api_authentication_failures_total\{[^}]*\} (\d+)/gm)].reduce(
        (sum, match) => sum + Number(match[1]),
        0,
      );
    };
    const before = await read();
    await listCustomers(undefined);
    await listCustomers(`sk_test_${'U'.repeat(32)}`);
    await listCustomers('garbage');
    expect(await read()).toBe(before + 3);
  });
});
