// payctl in process against DATABASE_URL while a service runs on the same PostgreSQL, and the start-up
// bootstrap when two processes start at once on one fresh database (PostgreSQL, multi-process).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api } from './support/http.js';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';
import { type RunningProcess, runPayctl, spawnPayctl } from './support/processes.js';
import { startTestService, type TestService } from './support/service.js';

const PASSWORD = 'a long enough password';
// Each in-process payctl loads the whole service in a fresh process: seconds each on a busy machine.
const SLOW = 90_000;
const databases: TestDatabase[] = [];
const running: RunningProcess[] = [];
let t: TestService;
let env: Record<string, string>;

beforeAll(async () => {
  const database = await createTestDatabase();
  databases.push(database);
  env = { DATABASE_URL: database.url, LOG_LEVEL: 'warn' };
  t = await startTestService({ databaseUrl: database.url });
});
afterAll(async () => {
  for (const process of running) {
    process.child.kill('SIGTERM');
    await process.exited;
  }
  await t?.close();
  for (const database of databases) await database.drop();
});

async function query<R>(url: string, text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as R[];
  } finally {
    await client.end();
  }
}

function startProcess(extraEnv: Record<string, string>): RunningProcess {
  const process = spawnPayctl(['start'], { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...extraEnv });
  running.push(process);
  return process;
}

function urlOf(process: RunningProcess): string {
  return `http://127.0.0.1:${/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(process.output())?.[1]}`;
}

describe('payctl in process on PostgreSQL (beside a running service)', () => {
  it(
    'migrates, creates an operator and a key the running service accepts',
    async () => {
      const migrate = await runPayctl(['migrate'], env);
      expect(migrate.code, migrate.output).toBe(0);
      const operator = await runPayctl(
        [
          'operators',
          'create',
          '--email',
          'pg-ops@example.test',
          '--role',
          'payment-operator',
          '--password',
          PASSWORD,
        ],
        env,
      );
      expect(operator.code, operator.output).toBe(0);
      expect(
        (await t.api.post('/admin/login', { email: 'pg-ops@example.test', password: PASSWORD })).status,
      ).toBe(200);

      const json = await runPayctl(['--json', 'keys', 'create', '--merchant', t.merchantId], env);
      expect(json.code, json.output).toBe(0);
      const created = JSON.parse(json.stdout) as { id: string; secret: string };
      expect((await t.api.get('/v1/customers', undefined, { key: created.secret })).status).toBe(200);

      const human = await runPayctl(['keys', 'create', '--merchant', t.merchantId, '--live'], env);
      expect(human.code, human.output).toBe(0);
      const secrets = human.output.match(/sk_live_[A-Za-z0-9]+/g) ?? [];
      expect(secrets).toHaveLength(1);
      const live = await t.api.get<{ livemode: boolean }>('/v1/customers', { limit: 1 }, { key: secrets[0] });
      expect(live.status).toBe(200);

      const revoke = await runPayctl(['keys', 'revoke', created.id], env);
      expect(revoke.code, revoke.output).toBe(0);
      // Another process revoked it: this service notices within its two-second key cache.
      await expect
        .poll(async () => (await t.api.get('/v1/customers', undefined, { key: created.secret })).status, {
          timeout: 5_000,
          interval: 200,
        })
        .toBe(401);
    },
    SLOW,
  );

  it(
    'refuses bad arguments in one line without a stack trace, changing nothing',
    async () => {
      const before = await query<{ n: number }>(
        env.DATABASE_URL as string,
        'select count(*)::int as n from api_keys',
      );
      for (const [args, pattern] of [
        [['keys', 'create', '--merchant', 'acct_nobody'], /^payctl: No such merchant: 'acct_nobody'$/],
        [
          ['keys', 'create', '--merchant', t.merchantId, '--kind', 'restricted'],
          /^payctl: A restricted key needs/,
        ],
        [['keys', 'revoke', 'key_nothing'], /^payctl: No such api_key: 'key_nothing'$/],
        [
          ['operators', 'create', '--email', 'dup@example.test', '--role', 'admin', '--password', PASSWORD],
          /^payctl: option '--role <role>' argument 'admin' is invalid/,
        ],
        [
          [
            'operators',
            'create',
            '--email',
            'pg-ops@example.test',
            '--role',
            'payment-viewer',
            '--password',
            PASSWORD,
          ],
          /^payctl: An operator with the email pg-ops@example.test already exists/,
        ],
      ] as const) {
        const result = await runPayctl([...args], env);
        expect(result.code, result.output).not.toBe(0);
        expect(result.output.trim()).toMatch(pattern);
        expect(result.output.trim().split('\n')).toHaveLength(1);
      }
      const after = await query<{ n: number }>(
        env.DATABASE_URL as string,
        'select count(*)::int as n from api_keys',
      );
      expect(after).toEqual(before);
    },
    SLOW,
  );
});

describe('bootstrap with two processes starting at once (PostgreSQL, multi-process)', () => {
  it(
    'creates one default merchant and prints its keys once, with one admin',
    async () => {
      const database = await createTestDatabase();
      databases.push(database);
      const shared = {
        DATABASE_URL: database.url,
        BOOTSTRAP_ADMIN_EMAIL: 'boot@example.test',
        BOOTSTRAP_ADMIN_PASSWORD: PASSWORD,
      };
      const both = [startProcess(shared), startProcess(shared)];
      await Promise.all(both.map((p) => p.waitFor(/listening on/, 30_000)));
      const banners = both.filter((p) => p.output().includes('First start'));
      expect(banners).toHaveLength(1);
      const secret = /secret key:\s+(sk_test_\w+)/.exec(banners[0]?.output() ?? '')?.[1];
      for (const process of both) {
        const api = new Api(urlOf(process));
        expect((await api.get('/v1/customers', undefined, { key: secret })).status).toBe(200);
        expect(
          (await api.post('/admin/login', { email: 'boot@example.test', password: PASSWORD })).status,
        ).toBe(200);
      }
      expect(await query(database.url, 'select count(*)::int as n from merchants')).toEqual([{ n: 1 }]);
      expect(await query(database.url, 'select count(*)::int as n from operators')).toEqual([{ n: 1 }]);
    },
    SLOW,
  );

  it(
    'gives BOOTSTRAP_SECRET_KEY to one merchant however many processes start with it',
    async () => {
      const database = await createTestDatabase();
      databases.push(database);
      const key = `sk_test_${'k'.repeat(32)}`;
      const shared = { DATABASE_URL: database.url, BOOTSTRAP_SECRET_KEY: key };
      const both = [startProcess(shared), startProcess(shared)];
      await Promise.all(both.map((p) => p.waitFor(/listening on/, 30_000)));
      for (const process of both) {
        expect(process.output()).not.toContain('First start');
        expect((await new Api(urlOf(process)).get('/v1/customers', undefined, { key })).status).toBe(200);
      }
      expect(await query(database.url, 'select count(*)::int as n from merchants')).toEqual([{ n: 1 }]);
    },
    SLOW,
  );
});
