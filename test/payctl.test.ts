// payctl over HTTP (--url/--token) against a running service, and payctl's answers to bad arguments:
// one line, no stack trace, a non-zero exit. The in-process paths are in payctl.embedded and payctl.pg.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPayctl } from './support/processes.js';
import { startTestService, type TestService } from './support/service.js';

let t: TestService;
let remote: string[];
beforeAll(async () => {
  t = await startTestService();
  remote = ['--url', t.url, '--token', t.adminToken];
});
afterAll(async () => {
  await t.close();
});

const env = () => ({ LOG_LEVEL: 'warn' });

/** A failure a person can read: one line on the output, naming the problem, never a stack trace. */
function expectOneLineFailure(result: { code: number | null; output: string }, pattern: RegExp) {
  expect(result.code, result.output).not.toBe(0);
  expect(result.output.trim().split('\n')).toHaveLength(1);
  expect(result.output).toMatch(pattern);
  expect(result.output).not.toMatch(/\n\s+at /);
}

describe('payctl --url', { timeout: 60_000 }, () => {
  it('creates a key remotely, printing parseable JSON with --json, and the key works', async () => {
    const result = await runPayctl(
      [...remote, '--json', 'keys', 'create', '--merchant', t.merchantId],
      env(),
    );
    expect(result.code, result.output).toBe(0);
    const created = JSON.parse(result.stdout) as { id: string; secret: string; kind: string };
    expect(created.secret).toMatch(/^sk_test_/);
    expect((await t.api.get('/v1/customers', undefined, { key: created.secret })).status).toBe(200);
    const audit = await t.admin.get<{ data: { action: string; resource: { id: string } | null }[] }>(
      '/admin/audit',
      { resource: created.id },
    );
    expect(audit.body.data.map((e) => e.action)).toEqual(['api_key.create']);
  });

  it('prints the secret exactly once in the human form, and lists keys without secrets', async () => {
    const result = await runPayctl(
      [
        ...remote,
        'keys',
        'create',
        '--merchant',
        t.merchantId,
        '--kind',
        'restricted',
        '--scopes',
        'customers:read',
      ],
      env(),
    );
    expect(result.code, result.output).toBe(0);
    const secrets = result.output.match(/rk_test_[A-Za-z0-9]+/g) ?? [];
    expect(secrets).toHaveLength(1);
    const list = await runPayctl([...remote, 'keys', 'list', '--merchant', t.merchantId], env());
    expect(list.code).toBe(0);
    expect(list.output).toMatch(/^ID\s+KIND\s+LIVEMODE\s+REDACTED/);
    expect(list.output).not.toContain(secrets[0]);
    expect(list.output).toContain(`rk_test_...${secrets[0]?.slice(-4)}`);
  });

  it('rotates and revokes keys remotely', async () => {
    const created = JSON.parse(
      (await runPayctl([...remote, '--json', 'keys', 'create', '--merchant', t.merchantId], env())).stdout,
    ) as { id: string; secret: string };
    const rotated = await runPayctl(
      [...remote, '--json', 'keys', 'rotate', created.id, '--overlap-seconds', '0'],
      env(),
    );
    expect(rotated.code, rotated.output).toBe(0);
    const replacement = JSON.parse(rotated.stdout) as { id: string; secret: string };
    expect((await t.api.get('/v1/customers', undefined, { key: created.secret })).status).toBe(401);
    expect((await t.api.get('/v1/customers', undefined, { key: replacement.secret })).status).toBe(200);
    const revoked = await runPayctl([...remote, 'keys', 'revoke', replacement.id], env());
    expect(revoked.code, revoked.output).toBe(0);
    expect((await t.api.get('/v1/customers', undefined, { key: replacement.secret })).status).toBe(401);
  });

  it('creates operators and merchants remotely', async () => {
    const operator = await runPayctl(
      [
        ...remote,
        '--json',
        'operators',
        'create',
        '--email',
        'remote@example.test',
        '--role',
        'payment-viewer',
        '--password',
        'a long enough password',
      ],
      env(),
    );
    expect(operator.code, operator.output).toBe(0);
    expect(JSON.parse(operator.stdout)).toMatchObject({
      email: 'remote@example.test',
      role: 'payment-viewer',
    });
    const login = await t.api.post('/admin/login', {
      email: 'remote@example.test',
      password: 'a long enough password',
    });
    expect(login.status).toBe(200);
    const merchant = await runPayctl(
      [...remote, '--json', 'merchants', 'create', '--name', 'CLI shop'],
      env(),
    );
    expect(merchant.code, merchant.output).toBe(0);
    const created = JSON.parse(merchant.stdout) as { id: string; secret_key: string };
    expect(created.id).toMatch(/^acct_/);
    expect((await t.api.get('/v1/customers', undefined, { key: created.secret_key })).status).toBe(200);
  });
});

describe('payctl bad arguments', { timeout: 60_000 }, () => {
  it('refuses an unknown role', async () => {
    const result = await runPayctl(
      [
        ...remote,
        'operators',
        'create',
        '--email',
        'x@example.test',
        '--role',
        'root',
        '--password',
        'x'.repeat(12),
      ],
      env(),
    );
    expectOneLineFailure(result, /^payctl: .*--role.*root/);
  });

  it('refuses a short password before sending anything', async () => {
    const result = await runPayctl(
      [
        ...remote,
        'operators',
        'create',
        '--email',
        'y@example.test',
        '--role',
        'payment-viewer',
        '--password',
        'short',
      ],
      env(),
    );
    expectOneLineFailure(result, /^payctl: --password: must be at least 12 characters/);
    expect((await t.api.post('/admin/login', { email: 'y@example.test', password: 'short' })).status).toBe(
      401,
    );
  });

  it('refuses an unknown merchant, an unknown scope, and a missing token', async () => {
    expectOneLineFailure(
      await runPayctl([...remote, 'keys', 'create', '--merchant', 'acct_nobody'], env()),
      /^payctl: the service answered 404: No such merchant: 'acct_nobody'/,
    );
    expectOneLineFailure(
      await runPayctl(
        [
          ...remote,
          'keys',
          'create',
          '--merchant',
          t.merchantId,
          '--kind',
          'restricted',
          '--scopes',
          'all:write',
        ],
        env(),
      ),
      /^payctl: --scopes \(item 0\): must be <resource>:read/,
    );
    const noToken = await runPayctl(['--url', t.url, 'keys', 'list'], env());
    expectOneLineFailure(noToken, /^payctl: an operator API token is required/);
    expect(noToken.code).toBe(64);
    expectOneLineFailure(
      await runPayctl(['--url', t.url, '--token', 'opt_wrong', 'keys', 'list'], env()),
      /^payctl: the service answered 401/,
    );
  });

  it('says so in one line when the service cannot be reached', async () => {
    expectOneLineFailure(
      await runPayctl(['--url', 'http://127.0.0.1:1', '--token', 'opt_x', 'keys', 'list'], env()),
      /^payctl: cannot reach the service at http:\/\/127\.0\.0\.1:1/,
    );
  });

  it('refuses an unknown command and a missing required option in one line', async () => {
    expectOneLineFailure(await runPayctl(['frobnicate'], env()), /^payctl: unknown command 'frobnicate'/);
    expectOneLineFailure(await runPayctl([...remote, 'keys', 'create'], env()), /^payctl: .*--merchant/);
  });
});
