// payctl on the embedded database: in process against a DATA_DIR no service holds, the DATA_DIR lock
// once a service runs on it (and --url as the way in), and the first start printing its keys once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Api } from './support/http.js';
import { loginWithMfa } from './support/mfa.js';
import { type RunningProcess, runPayctl, spawnPayctl } from './support/processes.js';

const folders: string[] = [];
const running: RunningProcess[] = [];
afterAll(async () => {
  for (const process of running) {
    process.child.kill('SIGTERM');
    await process.exited;
  }
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function dataDir(): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'payctl-embedded-'));
  folders.push(folder);
  return folder;
}

const PASSWORD = 'a long enough password';
// Every payctl here opens PGlite in a fresh process (seconds each on a busy machine).
const SLOW = 90_000;

async function start(env: Record<string, string>): Promise<{ process: RunningProcess; api: Api }> {
  const process = spawnPayctl(['start'], { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env });
  running.push(process);
  await process.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+/, 40_000);
  const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(process.output())?.[1];
  return { process, api: new Api(`http://127.0.0.1:${port}`) };
}

async function stop(process: RunningProcess) {
  process.child.kill('SIGTERM');
  expect((await process.exited).code).toBe(0);
}

// One DATA_DIR through a service's life: first start, one-shot commands while it is stopped, a second
// start that holds the folder. Sequential on purpose: each step needs the one before.
describe('payctl on an embedded DATA_DIR', () => {
  const env = { DATA_DIR: dataDir(), LOG_LEVEL: 'warn' };
  let merchantId: string;
  let bannerSecret: string;
  let cliSecret: string;

  it(
    'prints a merchant and its keys on the first start, and they work',
    async () => {
      const first = await start(env);
      await first.process.waitFor('publishable key:');
      const output = first.process.output();
      expect(output).toContain('First start');
      merchantId = /merchant:\s+(acct_\w+)/.exec(output)?.[1] as string;
      bannerSecret = /secret key:\s+(sk_test_\w+)/.exec(output)?.[1] as string;
      expect(merchantId).toMatch(/^acct_/);
      expect(output.match(/sk_test_\w+/g)).toHaveLength(1);
      expect((await first.api.get('/v1/customers', undefined, { key: bannerSecret })).status).toBe(200);
      await stop(first.process);
    },
    SLOW,
  );

  it(
    'migrates, creates an operator and a key in process while no service holds the DATA_DIR',
    async () => {
      const migrate = await runPayctl(['migrate'], env);
      expect(migrate.code, migrate.output).toBe(0);
      expect(migrate.output).toContain('migrations are up to date');
      const operator = await runPayctl(
        [
          'operators',
          'create',
          '--email',
          'ops@example.test',
          '--role',
          'payment-admin',
          '--password',
          PASSWORD,
        ],
        env,
      );
      expect(operator.code, operator.output).toBe(0);
      expect(operator.output).toContain('ops@example.test');
      const key = await runPayctl(['--json', 'keys', 'create', '--merchant', merchantId], env);
      expect(key.code, key.output).toBe(0);
      cliSecret = (JSON.parse(key.stdout) as { secret: string }).secret;
      expect(cliSecret).toMatch(/^sk_test_/);
    },
    SLOW,
  );

  it(
    'starts again without printing keys; BOOTSTRAP_SECRET_KEY, the first keys and the CLI key all work',
    async () => {
      const bootstrapKey = `sk_test_${'b'.repeat(24)}`;
      const { process, api } = await start({ ...env, BOOTSTRAP_SECRET_KEY: bootstrapKey });
      expect(process.output()).not.toContain('First start');
      expect(process.output()).not.toMatch(/sk_test_/);
      for (const key of [bannerSecret, cliSecret, bootstrapKey]) {
        expect((await api.get('/v1/customers', undefined, { key })).status).toBe(200);
      }

      const locked = await runPayctl(['keys', 'create', '--merchant', merchantId], env);
      expect(locked.code).not.toBe(0);
      expect(locked.output.trim().split('\n')).toHaveLength(1);
      expect(locked.output).toMatch(/^payctl: DATA_DIR .* is in use by another payment-service process/);
      expect(locked.output).toContain('--url');

      // An admin enrols a TOTP authenticator at first login (the spawned service runs on real time).
      const login = await loginWithMfa(
        api,
        { email: 'ops@example.test', password: PASSWORD },
        undefined,
        () => Date.now(),
      );
      const token = await api.post<{ token: string }>('/admin/tokens', { name: 'cli' }, { key: login.token });
      const remote = await runPayctl(
        [
          '--url',
          api.baseUrl,
          '--token',
          token.body.token,
          '--json',
          'keys',
          'create',
          '--merchant',
          merchantId,
        ],
        env,
      );
      expect(remote.code, remote.output).toBe(0);
      const remoteSecret = (JSON.parse(remote.stdout) as { secret: string }).secret;
      expect((await api.get('/v1/customers', undefined, { key: remoteSecret })).status).toBe(200);
      // The in-process commands left audit rows with the CLI as actor.
      const audit = await api.get<{ data: { actor: { type: string }; action: string }[] }>(
        '/admin/audit',
        undefined,
        {
          key: token.body.token,
        },
      );
      const cliActions = audit.body.data.filter((e) => e.actor.type === 'cli').map((e) => e.action);
      expect(cliActions.sort()).toEqual(['api_key.create', 'operator.create']);
      await stop(process);
    },
    SLOW,
  );
});
