// `payctl ledger verify`: recomputes every balance from the entries and checks every ledger invariant
// (DESIGN invariant 5) with SQL aggregates, so only violations, never the ledger itself, reach memory.
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../../db/schema.js';

export interface CheckResult {
  name: string;
  description: string;
  violations: number;
  /** Up to five offending rows, described. */
  examples: string[];
}

export interface VerifyReport {
  ok: boolean;
  accounts: number;
  transactions: number;
  entries: number;
  checks: CheckResult[];
}

interface Check {
  name: string;
  description: string;
  /** Selects one `detail` text column per violation. */
  query: RawBuilder<{ detail: string }>;
}

const CHECKS: Check[] = [
  {
    name: 'two_entries',
    description: 'every transaction has at least two entries',
    query: sql`select t.id || ' has ' || count(e.id) || ' entries' as detail
      from ledger_transactions t left join ledger_entries e on e.transaction_id = t.id
      group by t.id having count(e.id) < 2`,
  },
  {
    name: 'zero_sum',
    description: 'the entries of every transaction sum to zero in each currency',
    query: sql`select transaction_id || ' sums to ' || sum(amount) || ' ' || currency as detail
      from ledger_entries group by transaction_id, currency having sum(amount) <> 0`,
  },
  {
    name: 'orphan_entries',
    description: 'every entry belongs to an existing transaction and an account of its currency and mode',
    query: sql`select 'entry ' || e.id || ' (' || e.transaction_id || ', ' || e.account_id || ')' as detail
      from ledger_entries e
      left join ledger_accounts a on a.id = e.account_id
      left join ledger_transactions t on t.id = e.transaction_id
      where a.id is null or t.id is null or a.currency <> e.currency
        or a.livemode <> e.livemode or t.livemode <> e.livemode`,
  },
  {
    name: 'orphan_balances',
    description: 'every cached balance belongs to an existing account',
    query: sql`select 'balance ' || b.account_id || '/' || b.slot as detail
      from ledger_balances b left join ledger_accounts a on a.id = b.account_id where a.id is null`,
  },
  {
    name: 'cached_balances',
    description: 'every cached balance equals the sum of its entries, and its version their count',
    query: sql`with sums as (
        select account_id, sum(amount) as total, count(*) as n from ledger_entries group by account_id
      ), cached as (
        select account_id, sum(balance) as total, sum(version) as n from ledger_balances group by account_id
      )
      select coalesce(s.account_id, c.account_id) || ': cached ' || coalesce(c.total, 0) || ' (version '
        || coalesce(c.n, 0) || '), entries ' || coalesce(s.total, 0) || ' (' || coalesce(s.n, 0) || ')' as detail
      from sums s full join cached c on c.account_id = s.account_id
      where coalesce(s.total, 0) <> coalesce(c.total, 0) or coalesce(s.n, 0) <> coalesce(c.n, 0)`,
  },
  {
    name: 'non_negative',
    description: 'accounts that may not go negative are not negative, and keep one balance row',
    query: sql`select a.id || ' (' || a.type || ') holds ' || sum(b.balance) || ' ' || a.currency as detail
      from ledger_accounts a join ledger_balances b on b.account_id = a.id
      where not a.may_go_negative
      group by a.id, a.type, a.currency
      having sum(b.balance) < 0 or bool_or(b.slot <> 0 or b.may_go_negative)`,
  },
  {
    name: 'non_negative_history',
    description: 'accounts that may not go negative never were, entry by entry',
    // Entries of such an account are written under its lock, so id order is the order they applied in.
    query: sql`select account_id || ' reached ' || min(running) || ' at entry ' || min(id) as detail
      from (
        select e.account_id, e.id, sum(e.amount) over (partition by e.account_id order by e.id) as running
        from ledger_entries e join ledger_accounts a on a.id = e.account_id
        where not a.may_go_negative
      ) r where running < 0 group by account_id`,
  },
  {
    name: 'currency_totals',
    description: 'all cached balances of a currency and mode sum to zero',
    query: sql`select a.currency || (case when a.livemode then ' live' else ' test' end) || ' totals '
        || sum(b.balance) as detail
      from ledger_accounts a join ledger_balances b on b.account_id = a.id
      group by a.currency, a.livemode having sum(b.balance) <> 0`,
  },
];

async function runCheck(db: Kysely<Database>, check: Check): Promise<CheckResult> {
  const result = await sql<{ detail: string; total: number }>`
    select detail, count(*) over ()::int as total from (${check.query}) v limit 5`.execute(db);
  return {
    name: check.name,
    description: check.description,
    violations: result.rows[0]?.total ?? 0,
    examples: result.rows.map((row) => row.detail),
  };
}

export async function verifyLedger(db: Kysely<Database>): Promise<VerifyReport> {
  const checks: CheckResult[] = [];
  for (const check of CHECKS) checks.push(await runCheck(db, check));
  const counts = await sql<{ accounts: number; transactions: number; entries: number }>`
    select (select count(*) from ledger_accounts)::int as accounts,
      (select count(*) from ledger_transactions)::int as transactions,
      (select count(*) from ledger_entries)::int as entries`.execute(db);
  const row = counts.rows[0] ?? { accounts: 0, transactions: 0, entries: 0 };
  return { ok: checks.every((c) => c.violations === 0), ...row, checks };
}

/** The report as lines for people: one per check, with examples under failed ones. */
export function formatVerifyReport(report: VerifyReport): string {
  const lines = [
    `ledger: ${report.accounts} accounts, ${report.transactions} transactions, ${report.entries} entries`,
  ];
  for (const check of report.checks) {
    lines.push(
      `${check.violations === 0 ? 'ok  ' : 'FAIL'}  ${check.name}: ${check.description}` +
        (check.violations === 0 ? '' : ` (${check.violations} violations)`),
    );
    for (const example of check.examples) lines.push(`        ${example}`);
  }
  lines.push(report.ok ? 'ledger verified: no violations' : 'ledger verification FAILED');
  return `${lines.join('\n')}\n`;
}
