// Operators over HTTP: login, sessions (cookie and Bearer, logout, idle expiry on the test clock), API
// tokens, runbook 003's roles, input rules, 401 on every /admin route, and the audit trail it all leaves.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api, Reply } from './support/http.js';
import { enrolTotp } from './support/mfa.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestService, type TestService } from './support/service.js';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t.close();
});

const PASSWORD = 'a long enough password';
type ErrorBody = { error: { type: string; code?: string; message: string; param?: string } };
type AuditEntry = {
  action: string;
  actor: { type: string; id: string | null };
  resource: { type: string; id: string | null } | null;
  outcome: string;
  origin: string | null;
  request_id: string | null;
  old_value: unknown;
  new_value: unknown;
};

let emailCounter = 0;
async function createOperator(role: string) {
  const email = `op${++emailCounter}-${role}@example.test`;
  const reply = await t.admin.post<{ id: string }>('/admin/operators', { email, password: PASSWORD, role });
  expect(reply.status, reply.text).toBe(200);
  return { id: reply.body.id, email, api: await loginAs(email) };
}

async function loginAs(email: string, password = PASSWORD): Promise<Api> {
  const reply = await t.api.post<{ token: string }>('/admin/login', { email, password });
  expect(reply.status, reply.text).toBe(200);
  return t.api.withKey(reply.body.token);
}

/** The audit row the request that produced `reply` left behind. */
async function auditFor(reply: Reply<unknown>): Promise<AuditEntry | undefined> {
  const requestId = reply.headers.get('request-id');
  const list = await t.admin.get<{ data: AuditEntry[] }>('/admin/audit', { limit: 1000 });
  return list.body.data.find((entry) => entry.request_id === requestId);
}

const now = () => t.service.clock.now().getTime();

async function advanceClock(seconds: number) {
  expect((await t.api.post('/_test/clock', { advance_seconds: seconds })).status).toBe(200);
}

describe('operator login and sessions', () => {
  it('logs in, sets the session cookie, and the session works as cookie and as Bearer', async () => {
    const adminId = (await t.admin.get<{ id: string }>('/admin/me')).body.id;
    const reply = await t.api.post<{ token: string; operator: { email: string; role: string } }>(
      '/admin/login',
      { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, totp: t.adminTotp.code(now()) },
    );
    expect(reply.status).toBe(200);
    expect(reply.body.token).toMatch(/^ops_/);
    expect(reply.body.operator).toMatchObject({ email: ADMIN_EMAIL, role: 'payment-admin' });
    const cookie = reply.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^ps_session=ops_[^;]+;.*HttpOnly/);
    const viaCookie = await t.api.get<{ email: string; via: string }>('/admin/me', undefined, {
      headers: { cookie: cookie.split(';')[0] as string },
    });
    expect(viaCookie.status).toBe(200);
    expect(viaCookie.body).toMatchObject({ email: ADMIN_EMAIL, via: 'session' });
    const viaBearer = await t.api.get<{ email: string }>('/admin/me', undefined, { key: reply.body.token });
    expect(viaBearer.body.email).toBe(ADMIN_EMAIL);
    const audit = await auditFor(reply);
    expect(audit).toMatchObject({
      action: 'operator.login',
      outcome: 'success',
      resource: { type: 'operator_session' },
      origin: '127.0.0.1',
    });
    expect(audit?.actor).toEqual({ type: 'operator', id: adminId });
  });

  it('refuses a wrong password and an unknown email with the same answer, and audits both', async () => {
    const wrong = await t.api.post<ErrorBody>('/admin/login', {
      email: ADMIN_EMAIL,
      password: 'wrong password!',
    });
    const unknown = await t.api.post<ErrorBody>('/admin/login', {
      email: 'nobody@example.test',
      password: ADMIN_PASSWORD,
    });
    for (const reply of [wrong, unknown]) {
      expect(reply.status).toBe(401);
      expect(reply.body.error.type).toBe('authentication_error');
      expect(reply.text).not.toContain(ADMIN_PASSWORD);
      expect(await auditFor(reply)).toMatchObject({
        action: 'operator.login',
        outcome: 'failure',
        origin: '127.0.0.1',
      });
    }
    expect(wrong.body.error.message).toBe(unknown.body.error.message);
    const missing = await t.api.post<ErrorBody>('/admin/login', { email: ADMIN_EMAIL });
    expect(missing.status).toBe(400);
    expect(missing.body.error.param).toBe('password');
  });

  it('ends the session at logout', async () => {
    const session = await t.adminSession();
    expect((await session.get('/admin/me')).status).toBe(200);
    const logout = await session.post('/admin/logout');
    expect(logout.status).toBe(200);
    expect(await auditFor(logout)).toMatchObject({
      action: 'operator.logout',
      outcome: 'success',
      resource: { type: 'operator_session' },
    });
    const after = await session.get<ErrorBody>('/admin/me');
    expect(after.status).toBe(401);
    expect(after.body.error.type).toBe('authentication_error');
  });

  it('expires a session after 15 idle minutes, and activity keeps it alive', async () => {
    const active = await t.adminSession();
    const idle = await t.adminSession();
    await advanceClock(10 * 60);
    expect((await active.get('/admin/me')).status).toBe(200);
    await advanceClock(6 * 60);
    expect((await active.get('/admin/me')).status).toBe(200);
    expect((await idle.get('/admin/me')).status).toBe(401);
    // API tokens are for tools and do not idle out.
    expect((await t.admin.get('/admin/me')).status).toBe(200);
  });
});

describe('operator API tokens', () => {
  it('work until revoked, and stop when their operator is disabled', async () => {
    const viewer = await createOperator('payment-viewer');
    const created = await viewer.api.post<{ id: string; token: string }>('/admin/tokens', { name: 'ci' });
    expect(created.body.token).toMatch(/^opt_/);
    const tokenApi = t.api.withKey(created.body.token);
    expect((await tokenApi.get('/admin/me')).status).toBe(200);
    const listed = await viewer.api.get<{ data: { id: string }[] }>('/admin/tokens');
    expect(listed.body.data.map((token) => token.id)).toEqual([created.body.id]);
    expect(listed.text).not.toContain(created.body.token);
    const revoke = await viewer.api.post(`/admin/tokens/${created.body.id}/revoke`);
    expect(revoke.status).toBe(200);
    expect(await auditFor(revoke)).toMatchObject({ action: 'operator_token.revoke', outcome: 'success' });
    expect((await tokenApi.get('/admin/me')).status).toBe(401);

    const second = await viewer.api.post<{ token: string }>('/admin/tokens', { name: 'second' });
    const secondApi = t.api.withKey(second.body.token);
    expect((await secondApi.get('/admin/me')).status).toBe(200);
    const disable = await t.admin.post(`/admin/operators/${viewer.id}/disable`);
    expect(disable.status).toBe(200);
    expect(await auditFor(disable)).toMatchObject({
      action: 'operator.disable',
      resource: { type: 'operator', id: viewer.id },
    });
    expect((await secondApi.get('/admin/me')).status).toBe(401);
    expect((await viewer.api.get('/admin/me')).status).toBe(401);
    const login = await t.api.post('/admin/login', { email: viewer.email, password: PASSWORD });
    expect(login.status).toBe(401);
  });
});

describe('roles (runbook 003)', () => {
  it('lets a payment-viewer read but not create operators or keys, and audits the denial', async () => {
    const viewer = await createOperator('payment-viewer');
    const me = await viewer.api.get<{ role: string; permissions: string[] }>('/admin/me');
    expect(me.body.role).toBe('payment-viewer');
    expect(me.body.permissions.sort()).toEqual(['audit:read', 'payment:read']);
    expect((await viewer.api.get('/admin/audit')).status).toBe(200);
    const operatorsBefore = (await t.admin.get<{ data: unknown[] }>('/admin/operators')).body.data.length;
    for (const [path, body] of [
      ['/admin/operators', { email: 'sneaky@example.test', password: PASSWORD, role: 'payment-admin' }],
      ['/admin/keys', { merchant: t.merchantId }],
    ] as const) {
      const denied = await viewer.api.post<ErrorBody>(path, body);
      expect(denied.status).toBe(403);
      expect(denied.body.error.type).toBe('permission_error');
      expect(await auditFor(denied)).toMatchObject({
        actor: { type: 'operator', id: viewer.id },
        action: `POST ${path}`,
        outcome: 'denied',
        origin: '127.0.0.1',
      });
    }
    expect((await t.admin.get<{ data: unknown[] }>('/admin/operators')).body.data.length).toBe(
      operatorsBefore,
    );
  });

  it('lets a payment-operator read the audit log but not create keys; a payment-admin can', async () => {
    const operator = await createOperator('payment-operator');
    expect((await operator.api.get('/admin/audit')).status).toBe(200);
    const denied = await operator.api.post<ErrorBody>('/admin/keys', { merchant: t.merchantId });
    expect(denied.status).toBe(403);
    const admin = await createOperator('payment-admin');
    // An admin can do nothing but enrol a second factor until they have one (see operators-security).
    const beforeMfa = await admin.api.post<ErrorBody>('/admin/keys', { merchant: t.merchantId });
    expect(beforeMfa.status).toBe(403);
    expect(beforeMfa.body.error.code).toBe('mfa_required');
    await enrolTotp(t.api, admin.api.key as string, now());
    const allowed = await admin.api.post<{ secret: string }>('/admin/keys', { merchant: t.merchantId });
    expect(allowed.status).toBe(200);
    expect((await t.api.get('/v1/customers', undefined, { key: allowed.body.secret })).status).toBe(200);
  });
});

describe('operator accounts', () => {
  it('refuses a password under 12 characters, naming password', async () => {
    const reply = await t.admin.post<ErrorBody>('/admin/operators', {
      email: 'short@example.test',
      password: 'elevenchars',
      role: 'payment-viewer',
    });
    expect(reply.status).toBe(400);
    expect(reply.body.error).toMatchObject({ type: 'invalid_request_error', param: 'password' });
    expect(
      (await t.api.post('/admin/login', { email: 'short@example.test', password: 'elevenchars' })).status,
    ).toBe(401);
  });

  it('refuses a duplicate email (in any case), an unknown role and a malformed email', async () => {
    const first = await createOperator('payment-viewer');
    for (const [body, param] of [
      [{ email: first.email.toUpperCase(), password: PASSWORD, role: 'payment-viewer' }, 'email'],
      [{ email: 'role@example.test', password: PASSWORD, role: 'superuser' }, 'role'],
      [{ email: 'not an email', password: PASSWORD, role: 'payment-viewer' }, 'email'],
    ] as const) {
      const reply = await t.admin.post<ErrorBody>('/admin/operators', body);
      expect(reply.status).toBe(400);
      expect(reply.body.error.param).toBe(param);
    }
  });

  it('refuses to let an admin disable their own account', async () => {
    const me = await t.admin.get<{ id: string }>('/admin/me');
    const reply = await t.admin.post<ErrorBody>(`/admin/operators/${me.body.id}/disable`);
    expect(reply.status).toBe(400);
    expect(reply.body.error.param).toBe('id');
    expect((await t.admin.get('/admin/me')).status).toBe(200);
  });
});

describe('every /admin route', () => {
  it('answers 401 without credentials and with a made-up token (except /admin/login)', async () => {
    const spec = await t.api.get<{ paths: Record<string, Record<string, unknown>> }>('/openapi.json');
    const routes = Object.entries(spec.body.paths)
      .filter(([path]) => path.startsWith('/admin') && path !== '/admin/login')
      .flatMap(([path, methods]) =>
        Object.keys(methods).map((method) => [method.toUpperCase(), path] as const),
      );
    expect(routes.length).toBeGreaterThanOrEqual(10);
    for (const [method, template] of routes) {
      const path = template.replace(/\{[^}]+\}/g, 'x_1');
      for (const key of [undefined, `opt_${'A'.repeat(40)}`, `ops_${'B'.repeat(40)}`]) {
        const reply = await t.api.request<ErrorBody>(method, path, method === 'GET' ? undefined : {}, {
          key,
        });
        expect(reply.status, `${method} ${path} with ${key ?? 'nothing'}`).toBe(401);
        expect(reply.body.error.type).toBe('authentication_error');
      }
    }
  });
});

describe('the audit trail', () => {
  it('records each operator action with actor, action, resource, outcome, origin and request id', async () => {
    const me = (await t.admin.get<{ id: string }>('/admin/me')).body.id;
    const merchant = await t.admin.post<{ id: string }>('/admin/merchants', { name: 'Audited' });
    const key = await t.admin.post<{ id: string }>('/admin/keys', { merchant: merchant.body.id });
    const rotate = await t.admin.post<{ id: string }>(`/admin/keys/${key.body.id}/rotate`);
    const revoke = await t.admin.post(`/admin/keys/${rotate.body.id}/revoke`);
    const operator = await t.admin.post<{ id: string }>('/admin/operators', {
      email: 'audited@example.test',
      password: PASSWORD,
      role: 'payment-viewer',
    });
    for (const [reply, action, resource] of [
      [merchant, 'merchant.create', { type: 'merchant', id: merchant.body.id }],
      [key, 'api_key.create', { type: 'api_key', id: key.body.id }],
      [rotate, 'api_key.rotate', { type: 'api_key', id: key.body.id }],
      [revoke, 'api_key.revoke', { type: 'api_key', id: rotate.body.id }],
      [operator, 'operator.create', { type: 'operator', id: operator.body.id }],
    ] as const) {
      expect(reply.status).toBe(200);
      const entry = await auditFor(reply);
      expect(entry, action).toMatchObject({
        actor: { type: 'operator', id: me },
        action,
        resource,
        outcome: 'success',
        origin: '127.0.0.1',
        request_id: reply.headers.get('request-id'),
      });
    }
    // Secrets never reach the audit log, only redacted forms.
    const all = await t.admin.get('/admin/audit', { limit: 1000 });
    expect(all.text).not.toMatch(/sk_test_[A-Za-z0-9]{20}/);
    expect(all.text).not.toContain(PASSWORD);
  });

  it('filters by action and resource', async () => {
    const merchant = await t.admin.post<{ id: string }>('/admin/merchants', { name: 'Filtered' });
    const byResource = await t.admin.get<{ data: AuditEntry[] }>('/admin/audit', {
      resource: merchant.body.id,
    });
    expect(byResource.body.data.map((e) => e.action)).toEqual(['merchant.create']);
    const byAction = await t.admin.get<{ data: AuditEntry[] }>('/admin/audit', { action: 'merchant.create' });
    expect(byAction.body.data.every((e) => e.action === 'merchant.create')).toBe(true);
    const bad = await t.admin.get<ErrorBody>('/admin/audit', { limit: 0 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('limit');
  });

  it('refuses UPDATE, DELETE and TRUNCATE on audit_log, even through SQL', async () => {
    const db = t.service.database.db;
    const count = async () =>
      Number((await sql<{ n: number }>`select count(*)::int as n from audit_log`.execute(db)).rows[0]?.n);
    const before = await count();
    await expect(sql`update audit_log set outcome = 'success'`.execute(db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from audit_log`.execute(db)).rejects.toThrow(/append-only/);
    await expect(sql`truncate audit_log`.execute(db)).rejects.toThrow(/append-only/);
    expect(await count()).toBe(before);
    expect(before).toBeGreaterThan(0);
  });
});

// Runbook 003's brute-force block (failed logins and API keys alike) is proven in ip-blocking.test.ts.
