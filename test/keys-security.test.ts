// Issue 9's API key controls over HTTP: restricted-key scopes on every merchant route (a table over the
// OpenAPI document), expiry, rotation with an overlap window, last_used_at written at most once a
// minute, and runbook 003's 90-day rotation (`payctl keys list` age, `keys rotate --older-than`), all on
// the test clock. Cross-replica revocation is keys-revocation.pg.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPayctl } from './support/processes.js';
import { startTestService, type TestService } from './support/service.js';
import { waitFor } from './support/wait.js';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t.close();
});

type ErrorBody = { error?: { type: string; code?: string; message: string; param?: string } };
type Key = {
  id: string;
  secret: string;
  created: number;
  expires_at: number | null;
  last_used_at: number | null;
  age_days: number;
  replaced_by: string | null;
};

async function advance(seconds: number) {
  expect((await t.api.post('/_test/clock', { advance_seconds: seconds })).status).toBe(200);
}

async function createKey(body: Record<string, unknown> = {}) {
  const reply = await t.admin.post<Key>('/admin/keys', { merchant: t.merchantId, ...body });
  expect(reply.status, reply.text).toBe(200);
  return reply.body;
}

const restricted = (scopes: string[]) => createKey({ kind: 'restricted', scopes });

async function listed(id: string) {
  const list = await t.admin.get<{ data: Key[] }>('/admin/keys', { merchant: t.merchantId });
  return list.body.data.find((key) => key.id === id) as Key;
}

const customers = (key: string) => t.api.get<ErrorBody>('/v1/customers', undefined, { key });

describe('restricted keys on every merchant route', () => {
  it('refuse a route without its scope (403 naming it) and allow it with the scope', async () => {
    const spec = await t.api.get<{ paths: Record<string, Record<string, { security?: unknown[] }>> }>(
      '/openapi.json',
    );
    const routes = Object.entries(spec.body.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([, operation]) => JSON.stringify(operation.security ?? []).includes('apiKey'))
        .map(([method]) => [method.toUpperCase(), path.replace(/\{[^}]+\}/g, 'x_1')] as const),
    );
    expect(routes.length).toBeGreaterThanOrEqual(30);
    // Two keys whose one scope each is different: every route lacks at least one of them.
    const a = await restricted(['balance:read']);
    const b = await restricted(['webhook_endpoints:read']);
    const send = (method: string, path: string, key: string) =>
      t.api.request<ErrorBody>(method, path, method === 'GET' || method === 'DELETE' ? undefined : {}, {
        key,
      });
    const needed = new Map<string, string>();
    for (const [method, path] of routes) {
      let refused = await send(method, path, a.secret);
      if (refused.body.error?.code !== 'insufficient_scope') refused = await send(method, path, b.secret);
      expect(refused.status, `${method} ${path}`).toBe(403);
      expect(refused.body.error).toMatchObject({ type: 'permission_error', code: 'insufficient_scope' });
      const scope = /needs ([a-z_]+:(read|write))/.exec(refused.body.error?.message ?? '')?.[1];
      expect(scope, `${method} ${path} names its scope`).toBeDefined();
      needed.set(`${method} ${path}`, scope as string);
    }
    const keyFor = new Map<string, string>();
    for (const [route, scope] of needed) {
      if (!keyFor.has(scope)) keyFor.set(scope, (await restricted([scope])).secret);
      const [method, path] = route.split(' ') as [string, string];
      const allowed = await send(method, path, keyFor.get(scope) as string);
      expect(allowed.body.error?.code, `${route} with ${scope}`).not.toBe('insufficient_scope');
      expect(allowed.status, `${route} with ${scope}`).not.toBe(401);
    }
    // A write scope covers reading the same resource; a read scope does not cover writing.
    const reader = await restricted(['customers:read']);
    const writer = await restricted(['customers:write']);
    expect((await customers(writer.secret)).status).toBe(200);
    expect((await customers(reader.secret)).status).toBe(200);
    const write = await t.api.post<ErrorBody>(
      '/v1/customers',
      { email: 'x@example.test' },
      { key: reader.secret },
    );
    expect(write.status).toBe(403);
    expect(write.body.error?.message).toContain('customers:write');
  });
});

describe('expiry, rotation and last use', () => {
  it('refuses a key after its expiry', async () => {
    const key = await createKey({ expires_in_days: 1 });
    expect((await customers(key.secret)).status).toBe(200);
    await advance(86_400 - 60);
    expect((await customers(key.secret)).status).toBe(200);
    await advance(61);
    const expired = await customers(key.secret);
    expect(expired.status).toBe(401);
    expect(expired.body.error?.code).toBe('api_key_expired');
  });

  it('keeps the old key working through the overlap, then refuses it; the replacement works', async () => {
    const old = await createKey({ name: 'rotating' });
    const rotated = await t.admin.post<Key & { previous: { id: string; expires_at: number } }>(
      `/admin/keys/${old.id}/rotate`,
      { overlap_seconds: 3600 },
    );
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.body.previous.id).toBe(old.id);
    expect((await listed(old.id)).replaced_by).toBe(rotated.body.id);
    expect((await customers(old.secret)).status).toBe(200);
    expect((await customers(rotated.body.secret)).status).toBe(200);
    await advance(3600 - 30);
    expect((await customers(old.secret)).status).toBe(200);
    await advance(31);
    expect((await customers(old.secret)).body.error?.code).toBe('api_key_expired');
    expect((await customers(rotated.body.secret)).status).toBe(200);
  });

  it('refuses a revoked key at once, audited', async () => {
    const key = await createKey();
    expect((await customers(key.secret)).status).toBe(200);
    const revoke = await t.admin.post(`/admin/keys/${key.id}/revoke`);
    expect(revoke.status).toBe(200);
    expect((await customers(key.secret)).body.error?.code).toBe('api_key_revoked');
    const audit = await t.admin.get<{ data: { action: string }[] }>('/admin/audit', { resource: key.id });
    expect(audit.body.data.map((entry) => entry.action)).toContain('api_key.revoke');
  });

  it('writes last_used_at at most once a minute per key, not once per request', async () => {
    const key = await createKey();
    const marker = await createKey();
    expect((await customers(key.secret)).status).toBe(200);
    const first = await waitFor('the first use', async () => (await listed(key.id)).last_used_at);
    await advance(30);
    for (let i = 0; i < 5; i++) await customers(key.secret);
    // Writes are queued off the request path: once a later key's use is recorded, so would this one be.
    await customers(marker.secret);
    await waitFor('the marker use', async () => (await listed(marker.id)).last_used_at);
    expect((await listed(key.id)).last_used_at).toBe(first);
    await advance(31);
    await customers(key.secret);
    const second = await waitFor('the use a minute later', async () => {
      const at = (await listed(key.id)).last_used_at;
      return at !== null && at > first ? at : undefined;
    });
    expect(second - first).toBeGreaterThanOrEqual(60);
  });
});

// Last in the file: it moves the clock by three months.
describe('90-day rotation (runbook 003)', { timeout: 120_000 }, () => {
  it('payctl keys list shows age; rotate --older-than 90d rotates only keys that old, with a dry run', async () => {
    const remote = ['--url', t.url, '--token', t.adminToken];
    const env = { LOG_LEVEL: 'warn' };
    const aged = await createKey({ name: 'aged' });
    const agedRestricted = await restricted(['customers:read']);
    await advance(50 * 86_400);
    // Each admin call is a use of its token, which keeps the admin account from going inactive.
    const young = await createKey({ name: 'young' });
    await advance(41 * 86_400);

    const list = await runPayctl([...remote, 'keys', 'list', '--merchant', t.merchantId], env);
    expect(list.code, list.output).toBe(0);
    expect(list.stdout).toMatch(/AGE_DAYS/);
    const listJson = await runPayctl([...remote, '--json', 'keys', 'list', '--merchant', t.merchantId], env);
    const ages = new Map((JSON.parse(listJson.stdout) as Key[]).map((key) => [key.id, key.age_days]));
    expect(ages.get(aged.id)).toBe(91);
    expect(ages.get(young.id)).toBe(41);

    const dry = await runPayctl(
      [...remote, '--json', 'keys', 'rotate', '--older-than', '90d', '--dry-run'],
      env,
    );
    expect(dry.code, dry.output).toBe(0);
    const planned = (JSON.parse(dry.stdout) as { data: { key: Key; replacement?: Key }[] }).data;
    const plannedIds = planned.map((rotation) => rotation.key.id);
    expect(plannedIds).toEqual(expect.arrayContaining([aged.id, agedRestricted.id]));
    expect(plannedIds).not.toContain(young.id);
    expect(planned.every((rotation) => rotation.replacement === undefined)).toBe(true);
    expect((await listed(aged.id)).replaced_by).toBeNull();

    const run = await runPayctl(
      [...remote, '--json', 'keys', 'rotate', '--older-than', '90d', '--overlap', '600'],
      env,
    );
    expect(run.code, run.output).toBe(0);
    const done = (JSON.parse(run.stdout) as { data: { key: Key; replacement: Key }[] }).data;
    expect(done.map((rotation) => rotation.key.id).sort()).toEqual([...plannedIds].sort());
    const replacement = done.find((rotation) => rotation.key.id === aged.id)?.replacement as Key;
    expect(replacement.secret).toMatch(/^sk_test_/);
    const audit = await t.admin.get<{ data: { action: string; new_value: { older_than_days?: number } }[] }>(
      '/admin/audit',
      { resource: aged.id, action: 'api_key.rotate' },
    );
    expect(audit.body.data[0]?.new_value.older_than_days).toBe(90);
    expect((await customers(aged.secret)).status).toBe(200);
    await advance(601);
    expect((await customers(aged.secret)).body.error?.code).toBe('api_key_expired');
    expect((await customers(replacement.secret)).status).toBe(200);
    expect((await customers(young.secret)).status).toBe(200);
    // Nothing is older than 90 days and unreplaced any more.
    const again = await runPayctl([...remote, '--json', 'keys', 'rotate', '--older-than', '90d'], env);
    expect((JSON.parse(again.stdout) as { data: unknown[] }).data).toEqual([]);
    const bad = await runPayctl([...remote, 'keys', 'rotate', '--older-than', '90 days'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.output).toContain('--older-than');
  });
});
