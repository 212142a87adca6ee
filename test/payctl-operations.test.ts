// payctl backup, restore --verify, preflight and incident report against a live service on this run's
// database: a backup is recorded and verified in a scratch copy (dropped afterwards), a damaged one fails,
// preflight sees the backup and flags a 31-day-old key, and the incident report orders the kill switch,
// a failed payment and the audit into one timeline (table, JSON, Markdown), over --url and in process.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPglite } from '../src/db/connect.js';
import { ADMIN_DATABASE_URL } from './support/postgres.js';
import { runPayctl } from './support/processes.js';
import { startTestService, type TestService, testDatabaseKind } from './support/service.js';

/** The newest migration's name: a verified copy must be at it. */
function latestMigration(): string {
  const names = fs
    .readdirSync(new URL('../src/db/migrations', import.meta.url))
    .filter((n) => /^\d{4}_/.test(n));
  return (names.sort().at(-1) as string).replace(/\.ts$/, '');
}

type Check = { name: string; status: 'ok' | 'warn' | 'fail'; detail: string };
type Preflight = { ok: boolean; checks: Check[] };
type Verification = { ok: boolean; scratch: string; checks: Check[]; row_counts: Record<string, number> };
type Timeline = { timeline: { source: string; what: string; subject: string | null; time: string }[] };

const kind = testDatabaseKind();
let t: TestService;
let remote: string[];
let scratchDir: string;
/** In process: the test service's PostgreSQL database, or a PGlite DATA_DIR of payctl's own. */
let local: Record<string, string>;

beforeAll(async () => {
  t = await startTestService();
  remote = ['--url', t.url, '--token', t.adminToken];
  scratchDir = fs.mkdtempSync(path.join(os.tmpdir(), 'payctl-ops-'));
  local =
    kind === 'postgres'
      ? { DATABASE_URL: t.database?.url ?? '', LOG_LEVEL: 'warn' }
      : { DATA_DIR: path.join(scratchDir, 'data'), LOG_LEVEL: 'warn' };
}, 180_000);
afterAll(async () => {
  await t?.close();
  fs.rmSync(scratchDir, { recursive: true, force: true });
});

const checkOf = (report: Preflight, name: string) => report.checks.find((check) => check.name === name);

async function scratchDatabases(): Promise<string[]> {
  const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await client.connect();
  try {
    const result = await client.query<{ datname: string }>(
      "select datname from pg_database where datname like 'payctl_verify_%'",
    );
    return result.rows.map((row) => row.datname);
  } finally {
    await client.end();
  }
}

describe('payctl backup, restore --verify, preflight, incident report', { timeout: 600_000 }, () => {
  it('backs up, records the backup, verifies it in a scratch copy and refuses a damaged one', async () => {
    const paid = await t.merchant.post('/v1/payment_intents', {
      amount: 2500,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: 'true',
    });
    expect(paid.status).toBe(200);

    const backup = await runPayctl(['--json', 'backup', '--out', `${scratchDir}/backups/`], local, 180_000);
    expect(backup.code, backup.output).toBe(0);
    const record = JSON.parse(backup.stdout) as { file: string; size_bytes: number; sha256: string };
    expect(record.file).toMatch(kind === 'postgres' ? /payment_db_\d{8}_\d{6}\.dump$/ : /\.tar\.gz$/);
    expect(fs.statSync(record.file).size).toBe(record.size_bytes);
    expect(record.sha256).toMatch(/^[0-9a-f]{64}$/);

    const verify = await runPayctl(['--json', 'restore', record.file, '--verify'], local, 180_000);
    expect(verify.code, verify.output).toBe(0);
    const verification = JSON.parse(verify.stdout) as Verification;
    expect(verification.ok).toBe(true);
    expect(verification.checks.map((check) => [check.name, check.status])).toEqual([
      ['migrations', 'ok'],
      ['ledger', 'ok'],
    ]);
    expect(verification.row_counts.kysely_migration).toBeGreaterThan(20);
    // The backup's own record is written after the dump, so it is not in it.
    expect(verification.row_counts.backups).toBe(0);
    if (kind === 'postgres') {
      // The service's payment is in the copy, and the scratch database is gone.
      expect(verification.row_counts.payment_intents).toBe(1);
      expect(verification.checks[1]?.detail).toMatch(/balanced: [1-9]\d* accounts/);
      expect(await scratchDatabases()).toEqual([]);
    } else {
      expect(fs.existsSync(verification.scratch)).toBe(false);
    }

    const table = await runPayctl(['restore', record.file, '--verify'], local, 180_000);
    expect(table.stdout).toMatch(/^NAME\s+STATUS\s+DETAIL$/m);
    expect(table.stdout).toMatch(new RegExp(`^migrations\\s+OK\\s+at ${latestMigration()}`, 'm'));
    expect(table.stdout).toMatch(/backup verified/);

    const damaged = path.join(scratchDir, 'damaged');
    fs.writeFileSync(damaged, fs.readFileSync(record.file).subarray(0, Math.floor(record.size_bytes / 2)));
    const refused = await runPayctl(['restore', damaged, '--verify'], local, 180_000);
    expect(refused.code, refused.output).not.toBe(0);
    expect(refused.output).toMatch(kind === 'postgres' ? /pg_restore failed/ : /does not load/);
    if (kind === 'postgres') expect(await scratchDatabases()).toEqual([]);

    // In process, preflight sees the recorded backup.
    const preflight = await runPayctl(['--json', 'preflight'], local, 180_000);
    const report = JSON.parse(preflight.stdout) as Preflight;
    expect(checkOf(report, 'backups_recent')).toMatchObject({ status: 'ok' });
    expect(checkOf(report, 'backups_recent')?.detail).toContain(record.file);
  });

  it('refuses backup and restore over --url, and restore without --verify, in one line', async () => {
    for (const args of [
      [...remote, 'backup'],
      [...remote, 'restore', 'x.dump', '--verify'],
      ['restore', 'x.dump'],
    ]) {
      const result = await runPayctl(args, local);
      expect(result.code, result.output).toBe(64);
      expect(result.output.trim().split('\n')).toHaveLength(1);
      expect(result.output).toMatch(/local only|needs --verify/);
    }
  });

  it.runIf(kind === 'pglite')('says what to do when a running service holds DATA_DIR', async () => {
    const dataDir = path.join(scratchDir, 'held');
    const held = await connectPglite(dataDir);
    try {
      const env = { DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
      const result = await runPayctl(['backup', '--out', scratchDir], env, 180_000);
      expect(result.code).toBe(1);
      expect(result.output).toMatch(/locked by a running service.*Stop the service, run payctl backup/);
    } finally {
      await held.close();
    }
  });

  it('builds an incident timeline from the kill switch, a failed payment and the audit', async () => {
    const kill = await t.admin.post('/admin/flags/payments_live_v1/kill', { reason: 'incident drill' });
    expect(kill.status).toBe(200);
    await t.admin.post('/admin/flags/payments_live_v1/enable', {});
    const failed = await t.merchant.post('/v1/payment_intents', {
      amount: 1800,
      currency: 'usd',
      payment_method: 'pm_card_chargeDeclinedInsufficientFunds',
      confirm: 'true',
    });
    expect(failed.status).toBe(402);

    const json = await runPayctl([...remote, '--json', 'incident', 'report', '--since', '1h'], {});
    expect(json.code, json.output).toBe(0);
    const report = JSON.parse(json.stdout) as Timeline & { summary: { payments_failed: number } };
    expect(report.summary.payments_failed).toBe(1);
    const lines = report.timeline.map((item) => `${item.source} ${item.what}`);
    const at = (line: string) => lines.indexOf(line);
    expect(at('alert feature_flag.kill')).toBeGreaterThanOrEqual(0);
    expect(at('alert feature_flag.kill')).toBeLessThan(at('alert feature_flag.enable'));
    expect(at('alert feature_flag.enable')).toBeLessThan(at('event payment_intent.payment_failed'));
    expect(lines).toContain('audit merchant.create');
    const times = report.timeline.map((item) => item.time);
    expect(times).toEqual([...times].sort());

    const markdown = await runPayctl(
      [...remote, 'incident', 'report', '--since', '1h', '--format', 'markdown'],
      {},
    );
    expect(markdown.stdout).toMatch(/^# Post-mortem \(draft\)/);
    expect(markdown.stdout).toMatch(/\| alert \| feature_flag\.kill \| payments_live_v1 \|/);
    expect(markdown.stdout).toContain('- [ ] Runbook updated with lessons learned');

    const table = await runPayctl([...remote, 'incident', 'report', '--since', '1h'], {});
    expect(table.stdout).toMatch(/^TIME\s+SOURCE\s+WHAT\s+SUBJECT\s+ACTOR\s+DETAIL$/m);
    expect(table.stdout).toMatch(/payments failed 1, succeeded \d+/);

    const bad = await runPayctl([...remote, 'incident', 'report', '--since', 'last tuesday'], {});
    expect(bad.code).toBe(1);
    expect(bad.output).toMatch(/answered 400: since must be a duration/);
    const http = await t.admin.get<{ error: { param: string } }>('/admin/incidents/report', { since: '40d' });
    expect(http.status).toBe(400);
    expect(http.body.error.param).toBe('since');
  });

  it('preflight over --url flags a 31-day-old key and a missing backup, and exits 1', async () => {
    const fresh = await runPayctl([...remote, '--json', 'preflight'], {});
    const before = JSON.parse(fresh.stdout) as Preflight;
    expect(checkOf(before, 'key_age')?.status).toBe('ok');
    expect(checkOf(before, 'tls_certificates')?.detail).toMatch(
      /^not applicable: (no https URL|.* over http)/,
    );

    await t.api.post('/_test/clock', { advance_seconds: 31 * 86_400 });
    const result = await runPayctl([...remote, '--json', 'preflight'], {});
    expect(result.code, result.output).toBe(1);
    const report = JSON.parse(result.stdout) as Preflight;
    expect(report.ok).toBe(false);
    const keyAge = checkOf(report, 'key_age');
    expect(keyAge?.status).toBe('warn');
    expect(keyAge?.detail).toMatch(/older than 30 days \(0 live\): key_\w+ \(sk_test_\.\.\., 31 days\)/);
    // PostgreSQL's backup was recorded 31 test-clock days ago; PGlite's went to payctl's own DATA_DIR.
    expect(checkOf(report, 'backups_recent')?.status).toBe('fail');
    expect(checkOf(report, 'webhook_secrets')?.status).toBe('ok');
    expect(checkOf(report, 'live_keys_in_live_mode')?.status).toBe('ok');

    const table = await runPayctl([...remote, 'preflight'], {});
    expect(table.stdout).toMatch(/^key_age\s+WARN\s+1 secret key|^key_age\s+WARN\s+\d+ secret key/m);
    expect(table.stdout).toMatch(/preflight FAILED/);
  });
});
