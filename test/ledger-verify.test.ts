// `payctl ledger verify` and the service function behind it: clean after real postings, and each kind
// of corruption (written straight into the tables, as a bug or a hand edit would) is found and named,
// with a non-zero exit code.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as postings from '../src/modules/ledger/ledger.postings.js';
import { verifyLedger } from '../src/modules/ledger/ledger.verify.js';
import { unique } from './ledger-support.js';
import { runPayctl } from './support/processes.js';
import { startTestService, type TestService } from './support/service.js';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
  const ledger = t.service.services.ledger;
  const common = {
    livemode: false,
    merchantId: t.merchantId,
    currency: 'usd',
    source: { type: 'charge', id: 'ch_v' },
  };
  await ledger.postAlone(
    postings.chargeSucceeded({ ...common, key: unique(), provider: 'stripe', amount: 5000, fee: 150 }),
  );
  await ledger.postAlone(
    postings.walletTopUp({ ...common, key: unique(), provider: 'stripe', customerId: 'cus_v', amount: 3000 }),
  );
  await ledger.postAlone(
    postings.walletPayment({ ...common, key: unique(), customerId: 'cus_v', amount: 2500, fee: 0 }),
  );
  await ledger.releaseDue(new Date(t.service.clock.now().getTime() + 3 * 86_400_000));
});
afterAll(async () => {
  await t.close();
});

const remote = () => runPayctl(['--url', t.url, '--token', t.adminToken, 'ledger', 'verify'], {});
const failing = async () =>
  (await verifyLedger(t.service.database.db)).checks.filter((c) => c.violations > 0).map((c) => c.name);

describe('ledger verify', () => {
  it('finds nothing wrong with a ledger written by the service', async () => {
    const report = await verifyLedger(t.service.database.db);
    expect(report.ok).toBe(true);
    expect(report.transactions).toBe(5);
    expect(report.checks.map((c) => c.name)).toEqual([
      'two_entries',
      'zero_sum',
      'orphan_entries',
      'orphan_balances',
      'cached_balances',
      'non_negative',
      'non_negative_history',
      'currency_totals',
    ]);
    const { code, output } = await remote();
    expect(output).toContain('ledger verified: no violations');
    expect(code).toBe(0);
  });

  it.runIf(process.env.TEST_DB === 'postgres')('runs in process against DATABASE_URL', async () => {
    const { code, output } = await runPayctl(['ledger', 'verify'], { DATABASE_URL: t.database?.url ?? '' });
    expect(output).toContain('5 transactions');
    expect(code).toBe(0);
  });

  it('names each broken invariant and exits 1', async () => {
    const db = t.service.database.db;
    const now = t.service.clock.now();
    const corrupt = async (statement: ReturnType<typeof sql>, ...checks: string[]) => {
      await statement.execute(db);
      const found = await failing();
      for (const check of checks) expect(found).toContain(check);
    };
    await corrupt(
      sql`insert into ledger_transactions (id, key, content_hash, livemode, kind, source_type, source_id, created_at, available_on)
        values ('txn_lonely', 'k_lonely', 'x', false, 'adjustment', 'test', 'x', ${now}, ${now})`,
      'two_entries',
    );
    const account = await sql<{
      id: string;
    }>`select id from ledger_accounts where type = 'merchant_pending'`.execute(db);
    const pendingId = account.rows[0]?.id as string;
    await corrupt(
      sql`insert into ledger_entries (transaction_id, account_id, livemode, currency, amount, created_at)
        values ('txn_lonely', ${pendingId}, false, 'usd', 7, ${now})`,
      'zero_sum',
    );
    await corrupt(
      sql`insert into ledger_entries (transaction_id, account_id, livemode, currency, amount, created_at)
        values ('txn_lonely', 'lac_nonexistent', false, 'usd', -5, ${now})`,
      'orphan_entries',
    );
    await corrupt(
      sql`update ledger_balances set balance = balance + 1 where account_id = ${pendingId} and slot = (select min(slot) from ledger_balances where account_id = ${pendingId})`,
      'cached_balances',
      'currency_totals',
    );
    await corrupt(
      sql`insert into ledger_balances (account_id, slot, may_go_negative, balance, version) values ('lac_gone', 0, true, 0, 0)`,
      'orphan_balances',
    );
    const wallet = await sql<{
      id: string;
    }>`select id from ledger_accounts where type = 'customer_wallet'`.execute(db);
    const walletId = wallet.rows[0]?.id as string;
    await corrupt(
      sql`insert into ledger_entries (transaction_id, account_id, livemode, currency, amount, created_at)
        values ('txn_lonely', ${walletId}, false, 'usd', -900, ${now}), ('txn_lonely', ${walletId}, false, 'usd', 900, ${now})`,
      'non_negative_history',
    );
    await corrupt(
      sql`insert into ledger_balances (account_id, slot, may_go_negative, balance, version) values (${walletId}, 3, true, -1, 0)`,
      'non_negative',
    );

    const report = await verifyLedger(db);
    expect(report.ok).toBe(false);
    const { code, output } = await remote();
    expect(code).toBe(1);
    expect(output).toContain('ledger verification FAILED');
    expect(output).toMatch(/FAIL\s+zero_sum/);
    expect(output).toContain('txn_lonely sums to 2 usd');
  });
});
