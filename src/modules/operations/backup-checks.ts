// What `payctl restore --verify` checks in a restored copy: the migrations against this build's, the
// ledger (the same invariants as `payctl ledger verify`), and the row count of every table.
import { type Kysely, sql } from 'kysely';
import { migrations } from '../../db/migrations/index.js';
import type { Database } from '../../db/schema.js';
import { verifyLedger } from '../ledger/ledger.verify.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface BackupCheck {
  name: string;
  status: CheckStatus;
  detail: string;
}

export interface RestoredContents {
  checks: BackupCheck[];
  row_counts: Record<string, number>;
}

const NO_MIGRATIONS = "no kysely_migration table: not this service's database";

async function checkMigrations(db: Kysely<Database>): Promise<BackupCheck> {
  const expected = Object.keys(migrations).sort();
  const found = await sql<{ name: string }>`select name from kysely_migration order by name`
    .execute(db)
    .then((result) => result.rows.map((row) => row.name))
    .catch(() => undefined);
  if (!found) return { name: 'migrations', status: 'fail', detail: NO_MIGRATIONS };
  const unknown = found.filter((name) => !expected.includes(name));
  const missing = expected.filter((name) => !found.includes(name));
  const latest = found.at(-1) ?? '(none)';
  if (unknown.length > 0) {
    return {
      name: 'migrations',
      status: 'fail',
      detail: `made by a newer build: ${unknown.join(', ')} unknown to this one (latest ${expected.at(-1)})`,
    };
  }
  if (missing.length > 0) {
    return {
      name: 'migrations',
      status: 'warn',
      detail: `at ${latest}; ${missing.length} migration(s) of this build would apply at the next start: ${missing.join(', ')}`,
    };
  }
  return { name: 'migrations', status: 'ok', detail: `at ${latest}, the expected version` };
}

async function checkLedger(db: Kysely<Database>): Promise<BackupCheck> {
  const report = await verifyLedger(db);
  const failed = report.checks.filter((check) => check.violations > 0);
  const totals = `${report.accounts} accounts, ${report.transactions} transactions, ${report.entries} entries`;
  return failed.length === 0
    ? { name: 'ledger', status: 'ok', detail: `balanced: ${totals}` }
    : {
        name: 'ledger',
        status: 'fail',
        detail: `${failed.map((check) => `${check.name} (${check.violations}: ${check.examples[0] ?? ''})`).join('; ')}; ${totals}`,
      };
}

async function rowCounts(db: Kysely<Database>): Promise<Record<string, number>> {
  // Partitions are counted through their parent, so a partitioned table appears once.
  const tables = await sql<{ name: string }>`
    select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition
    order by c.relname`.execute(db);
  const counts: Record<string, number> = {};
  for (const { name } of tables.rows) {
    const result = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(name)}`.execute(db);
    counts[name] = result.rows[0]?.n ?? 0;
  }
  return counts;
}

export async function checkRestoredDatabase(db: Kysely<Database>): Promise<RestoredContents> {
  const migrationsCheck = await checkMigrations(db);
  const checks = [migrationsCheck];
  // Without this service's tables there is no ledger to verify.
  if (migrationsCheck.detail !== NO_MIGRATIONS) {
    checks.push(await checkLedger(db).catch((error) => ledgerUnreadable(error)));
  }
  return { checks, row_counts: await rowCounts(db) };
}

function ledgerUnreadable(error: unknown): BackupCheck {
  return { name: 'ledger', status: 'fail', detail: `cannot read the ledger: ${(error as Error).message}` };
}
