// `payctl verify` over --url (both databases): ledger, audit chain and vault in one command, a summary
// table for people, --json for scripts, exit 1 when any part fails; GET /admin/verify refuses callers
// without an operator token. The in-process path is in audit-chain.pg.test.ts.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IntegrityReport } from '../src/modules/verification/verification.js';
import { asSuperuser } from './support/audit-chain.js';
import { runPayctl } from './support/processes.js';
import { startTestService, type TestService } from './support/service.js';

let t: TestService;
let remote: string[];
const env = { LOG_LEVEL: 'warn' };
const year = new Date().getUTCFullYear() + 2;

beforeAll(async () => {
  t = await startTestService();
  remote = ['--url', t.url, '--token', t.adminToken];
  // Something in the vault to decrypt and check.
  await t.service.services.paymentMethods.create(
    { merchantId: t.merchantId, livemode: false },
    { type: 'card', card: { number: '4242424242424242', exp_month: 1, exp_year: year, cvc: '123' } },
  );
});
afterAll(async () => {
  await t.close();
});

describe('payctl verify', { timeout: 60_000 }, () => {
  it('passes the three checks, as a table and as JSON', async () => {
    const table = await runPayctl([...remote, 'verify'], env);
    expect(table.code, table.output).toBe(0);
    expect(table.stdout).toMatch(/^CHECK\s+RESULT\s+SUMMARY/);
    for (const check of ['ledger', 'audit_chain', 'vault'])
      expect(table.stdout).toMatch(new RegExp(`${check}\\s+ok`));
    expect(table.stdout).toContain('all checks passed');

    const json = await runPayctl([...remote, '--json', 'verify'], env);
    expect(json.code, json.output).toBe(0);
    const report = JSON.parse(json.stdout) as IntegrityReport;
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => [c.name, c.ok])).toEqual([
      ['ledger', true],
      ['audit_chain', true],
      ['vault', true],
    ]);
    expect(report.checks.find((c) => c.name === 'vault')?.summary).toContain('1 cards');
  });

  it('exits 1 and names the failing part when the audit chain is broken', async () => {
    const row = await t.service.database.db
      .selectFrom('audit_log')
      .select(['id', 'outcome'])
      .orderBy('seq')
      .limit(1)
      .executeTakeFirstOrThrow();
    await asSuperuser(t.service.database.db, (trx) =>
      sql`update audit_log set outcome = 'denied' where id = ${row.id}`.execute(trx),
    );
    try {
      const json = await runPayctl([...remote, '--json', 'verify'], env);
      expect(json.code, json.output).toBe(1);
      const report = JSON.parse(json.stdout) as IntegrityReport;
      expect(report.ok).toBe(false);
      expect(report.checks.map((c) => [c.name, c.ok])).toEqual([
        ['ledger', true],
        ['audit_chain', false],
        ['vault', true],
      ]);
      expect(report.checks[1]?.summary).toContain(row.id);

      const table = await runPayctl([...remote, 'verify'], env);
      expect(table.code).toBe(1);
      expect(table.stdout).toMatch(/audit_chain\s+FAILED/);
      expect(table.stdout).toContain('verification FAILED');

      const audit = await runPayctl([...remote, 'audit', 'verify'], env);
      expect(audit.code).toBe(1);
      expect(audit.stdout).toContain(`FAIL edited: row ${row.id}`);
    } finally {
      await asSuperuser(t.service.database.db, (trx) =>
        sql`update audit_log set outcome = ${row.outcome} where id = ${row.id}`.execute(trx),
      );
    }
    expect((await runPayctl([...remote, 'audit', 'verify'], env)).code).toBe(0);
  });

  it('answers 401 without an operator token, and a merchant key is not one', async () => {
    expect((await t.api.get('/admin/verify')).status).toBe(401);
    expect((await t.merchant.get('/admin/verify')).status).toBe(401);
    expect((await t.api.get('/admin/audit/verify')).status).toBe(401);
  });
});
