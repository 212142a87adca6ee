// The audit chain under concurrent writers (PostgreSQL, two processes): operator actions sent at once to
// an in-process service and to a `payctl start` process on the same database, plus direct writes from
// the pool, form one unbroken chain (the lock on audit_chain_head; without it they would collide on the
// unique prev_hash). Then payctl in process: `payctl verify` and `payctl audit verify --heads-file`.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH } from '../src/modules/audit/audit-chain.js';
import { HEADS_FILE } from '../src/modules/audit/audit-head.js';
import { formatKeysFile, newVaultKey } from '../src/modules/vault/vault.keys.js';
import type { IntegrityReport } from '../src/modules/verification/verification.js';
import { type AuditChainReport, asSuperuser, chainRows } from './support/audit-chain.js';
import { Api } from './support/http.js';
import { type RunningProcess, runPayctl, spawnPayctl } from './support/processes.js';
import { startTestService, type TestService } from './support/service.js';

const folder = mkdtempSync(path.join(tmpdir(), 'audit-chain-pg-'));
const keysFile = path.join(folder, 'vault-keys');
writeFileSync(
  keysFile,
  formatKeysFile({ keks: [newVaultKey('k1')], fingerprintKeys: [newVaultKey('fp1')] }),
  {
    mode: 0o600,
  },
);
const headDir = path.join(folder, 'heads');

let t: TestService;
let other: RunningProcess;
let otherApi: Api;
let env: Record<string, string>;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  t = await startTestService({ env: { VAULT_KEYS_FILE: keysFile, AUDIT_HEAD_DIR: headDir } });
  env = {
    DATABASE_URL: t.database?.url as string,
    VAULT_KEYS_FILE: keysFile,
    AUDIT_HEAD_DIR: headDir,
    LOG_LEVEL: 'warn',
  };
  const port = await freePort();
  other = spawnPayctl(['start', '--role', 'api'], { ...env, HOST: '127.0.0.1', PORT: String(port) });
  await other.waitFor('payment service listening', 60_000);
  otherApi = new Api(`http://127.0.0.1:${port}`, t.adminToken);
});
afterAll(async () => {
  if (other?.child.exitCode === null) {
    other.child.kill('SIGTERM');
    await other.exited;
  }
  await t.close();
});

// An in-process payctl loads the whole service: allow for a loaded machine.
const slow = 120_000;

describe('audit chain with concurrent writers (PostgreSQL, two processes)', { timeout: 300_000 }, () => {
  it('appends every concurrent action to one unbroken chain', async () => {
    const before = (await chainRows(t.service.database.db)).length;
    const perWriter = 25;
    const replies = await Promise.all([
      ...Array.from({ length: perWriter }, (_, i) => t.admin.post('/admin/tokens', { name: `a${i}` })),
      ...Array.from({ length: perWriter }, (_, i) => otherApi.post('/admin/tokens', { name: `b${i}` })),
      ...Array.from({ length: perWriter }, (_, i) =>
        t.service.services.audit
          .record({
            actor: { type: 'system', id: null },
            action: 'test.concurrent',
            outcome: 'success',
            newValue: { i },
          })
          .then(() => ({ status: 200, text: '' })),
      ),
    ]);
    for (const reply of replies) expect(reply.status, reply.text).toBe(200);

    const rows = await chainRows(t.service.database.db);
    expect(rows.length).toBe(before + 3 * perWriter);
    expect(rows[0]?.prev_hash).toBe(GENESIS_HASH);
    for (let i = 1; i < rows.length; i++)
      expect(rows[i]?.prev_hash, `row ${rows[i]?.id}`).toBe(rows[i - 1]?.hash);
    const head = await t.service.database.db
      .selectFrom('audit_chain_head')
      .selectAll()
      .executeTakeFirstOrThrow();
    expect(head).toMatchObject({ seq: rows.at(-1)?.seq, hash: rows.at(-1)?.hash });

    const report = await otherApi.get<AuditChainReport>('/admin/audit/verify');
    expect(report.body).toMatchObject({ ok: true, problem_count: 0 });
  });

  it('payctl verify and payctl audit verify work in process, against the published heads', async () => {
    const published = await runPayctl(['--json', 'audit', 'publish-head'], env, slow);
    expect(published.code, published.output).toBe(0);
    const head = JSON.parse(published.stdout) as { seq: number; id: string };

    const all = await runPayctl(['--json', 'verify'], env, slow);
    expect(all.code, all.output).toBe(0);
    const report = JSON.parse(all.stdout) as IntegrityReport;
    expect(report.checks.map((c) => [c.name, c.ok])).toEqual([
      ['ledger', true],
      ['audit_chain', true],
      ['vault', true],
    ]);

    // Truncate the tail from the published head on, as a careful attacker would (head row moved too).
    await asSuperuser(t.service.database.db, async (trx) => {
      await sql`delete from audit_log where seq >= ${head.seq}`.execute(trx);
      await sql`update audit_chain_head set (seq, id, hash) =
        (select seq, id, hash from audit_log order by seq desc limit 1)`.execute(trx);
    });
    const chain = await runPayctl(['--json', 'audit', 'verify'], env, slow);
    expect(chain.code, chain.output).toBe(1);
    const report2 = JSON.parse(chain.stdout) as AuditChainReport;
    expect(report2.published.source).toBe(path.join(headDir, HEADS_FILE));
    expect(report2.problems).toEqual([
      expect.objectContaining({ kind: 'published_head_missing', seq: head.seq, id: head.id }),
    ]);
    // A copy of the heads kept elsewhere (say, taken from the log lines) is checked the same way.
    const copy = path.join(folder, 'copied-heads.jsonl');
    writeFileSync(copy, `${JSON.stringify({ ...head, published_at: 'from the logs' })}\n`);
    const fromCopy = await runPayctl(['--json', 'audit', 'verify', '--heads-file', copy], env, slow);
    expect(fromCopy.code, fromCopy.output).toBe(1);
    expect((JSON.parse(fromCopy.stdout) as AuditChainReport).published).toMatchObject({
      source: copy,
      checked: 1,
    });
  });
});
