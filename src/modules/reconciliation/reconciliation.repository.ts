// SQL for reconciliation: runs, findings, the seen provider records of a run, and the reads that match
// provider records to our attempts (in batches of one page) and find what the provider lacks (keyset
// pages), so no step holds more than a page in memory.
import { type Insertable, type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import { unsettledAttempt } from '../payments/payments.repository.js';
import type { PaymentAttemptRow } from '../payments/payments.table.js';
import type {
  FindingResolution,
  FindingRow,
  ReconciliationFindingsTable,
  ReconciliationRunsTable,
  ReconciliationSeenTable,
  RunCounts,
  RunRow,
} from './reconciliation.table.js';

type Executor = Kysely<Database> | Transaction<Database>;

export async function insertRun(db: Executor, row: Insertable<ReconciliationRunsTable>): Promise<RunRow> {
  return db.insertInto('reconciliation_runs').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function finishRun(
  db: Executor,
  id: string,
  changes: { status: 'completed' | 'failed'; counts: RunCounts; error: string | null; finished_at: Date },
): Promise<RunRow> {
  return db
    .updateTable('reconciliation_runs')
    .set({ ...changes, counts: JSON.stringify(changes.counts) })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findRun(db: Executor, id: string): Promise<RunRow | undefined> {
  return db.selectFrom('reconciliation_runs').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function latestRun(db: Executor): Promise<RunRow | undefined> {
  return db
    .selectFrom('reconciliation_runs')
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Runs newest first; `before` is the id of the last run of the previous page. */
export async function listRuns(db: Executor, limit: number, before?: RunRow): Promise<RunRow[]> {
  let query = db.selectFrom('reconciliation_runs').selectAll();
  if (before) {
    query = query.where((eb) =>
      eb.or([
        eb('created_at', '<', before.created_at),
        eb.and([eb('created_at', '=', before.created_at), eb('id', '<', before.id)]),
      ]),
    );
  }
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

export async function insertFindings(
  db: Executor,
  rows: Insertable<ReconciliationFindingsTable>[],
): Promise<void> {
  if (rows.length > 0) await db.insertInto('reconciliation_findings').values(rows).execute();
}

/** A run's findings in id order, one page after `afterId`. */
export async function listFindings(
  db: Executor,
  runId: string,
  limit: number,
  afterId?: string,
): Promise<FindingRow[]> {
  let query = db.selectFrom('reconciliation_findings').selectAll().where('run_id', '=', runId);
  if (afterId) query = query.where('id', '>', afterId);
  return query.orderBy('id').limit(limit).execute();
}

export async function findFinding(db: Executor, id: string): Promise<FindingRow | undefined> {
  return db.selectFrom('reconciliation_findings').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Moves a finding from one of `from` to `to`; undefined when another decision got there first. */
export async function moveFinding(
  db: Executor,
  id: string,
  from: FindingResolution[],
  to: FindingResolution,
  changes: Partial<Pick<FindingRow, 'resolved_at' | 'resolved_by' | 'payment_intent_id' | 'attempt_id'>> = {},
): Promise<FindingRow | undefined> {
  return db
    .updateTable('reconciliation_findings')
    .set({ resolution: to, ...changes })
    .where('id', '=', id)
    .where('resolution', 'in', from)
    .returningAll()
    .executeTakeFirst();
}

export type MatchedAttempt = PaymentAttemptRow & {
  amount_refunded: number | null;
  disputed: boolean | null;
};

/** For each provider payment id of one provider, our attempt with its charge's refunded and disputed state. */
export async function attemptsByProviderIds(
  db: Executor,
  provider: string,
  providerPaymentIds: string[],
): Promise<Map<string, MatchedAttempt>> {
  if (providerPaymentIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('payment_attempts as a')
    .leftJoin('charges as c', 'c.id', 'a.charge_id')
    .selectAll('a')
    .select(['c.amount_refunded', 'c.disputed'])
    .where('a.provider', '=', provider)
    // One array parameter, not one per id: a page of 1,000 ids compiles and parses as a short statement.
    .where('a.provider_payment_id', '=', sql<string>`any(${[...new Set(providerPaymentIds)]}::text[])`)
    .execute();
  return new Map(rows.map((row) => [row.provider_payment_id as string, row as MatchedAttempt]));
}

/** Our payment intents among `ids` (the ids provider objects say they were made for). */
export async function intentsByIds(db: Executor, ids: string[]) {
  if (ids.length === 0)
    return new Map<string, { id: string; merchant_id: string; livemode: boolean; status: string }>();
  const rows = await db
    .selectFrom('payment_intents')
    .select(['id', 'merchant_id', 'livemode', 'status'])
    .where('id', 'in', [...new Set(ids)])
    .execute();
  return new Map(rows.map((row) => [row.id, row]));
}

/** One run's seen records of one page, as column arrays (six parameters, whatever the page's size). */
export async function insertSeen(db: Executor, rows: Insertable<ReconciliationSeenTable>[]): Promise<void> {
  if (rows.length === 0) return;
  const column = <K extends keyof ReconciliationSeenTable>(key: K) => rows.map((row) => row[key] ?? null);
  await sql`
    insert into reconciliation_seen (run_id, provider, provider_payment_id, payment_intent_id, attempt_id, paid)
    select * from unnest(${column('run_id')}::text[], ${column('provider')}::text[],
      ${column('provider_payment_id')}::text[], ${column('payment_intent_id')}::text[],
      ${column('attempt_id')}::text[], ${column('paid')}::boolean[])`.execute(db);
}

/**
 * Refreshes the planner's statistics of the seen set once a run has filled it: without them PostgreSQL
 * takes the just-filled table for empty and probes it row by row in missingAtProvider (8 s for 20,000
 * attempts instead of a hash anti-join's fraction of a second).
 */
export async function analyzeSeen(db: Executor): Promise<void> {
  await sql`analyze reconciliation_seen`.execute(db);
}

export async function deleteSeen(db: Executor, runId: string): Promise<void> {
  await db.deleteFrom('reconciliation_seen').where('run_id', '=', runId).execute();
}

/**
 * Attempts of one of our payments that each charged at the provider, beyond the intent's own current
 * attempt: the second charges (runbook 002's duplicates). Few by nature, so read at once.
 */
export async function duplicateAttempts(db: Executor, runId: string, provider: string) {
  return db
    .selectFrom('reconciliation_seen as s')
    .innerJoin('payment_attempts as a', 'a.id', 's.attempt_id')
    .innerJoin('payment_intents as pi', 'pi.id', 'a.payment_intent_id')
    .selectAll('a')
    .select(['pi.current_attempt_id'])
    .where('s.run_id', '=', runId)
    .where('s.provider', '=', provider)
    .where('s.paid', '=', true)
    .where('s.payment_intent_id', 'in', (eb) =>
      eb
        .selectFrom('reconciliation_seen')
        .select('payment_intent_id')
        .where('run_id', '=', runId)
        .where('provider', '=', provider)
        .where('paid', '=', true)
        .groupBy('payment_intent_id')
        .having((h) => h.fn.count<number>('attempt_id').distinct(), '>', 1),
    )
    .whereRef('a.id', '<>', 'pi.current_attempt_id')
    .orderBy('a.id')
    .limit(10_000)
    .execute();
}

/**
 * One keyset page of our attempts with `provider` that took money (succeeded or authorized) within
 * [from, to) and that the run never saw at the provider.
 */
export async function missingAtProvider(
  db: Executor,
  runId: string,
  provider: string,
  from: Date,
  to: Date,
  limit: number,
  afterId?: string,
): Promise<PaymentAttemptRow[]> {
  let query = db
    .selectFrom('payment_attempts as a')
    .selectAll('a')
    .where('a.provider', '=', provider)
    .where('a.created_at', '>=', from)
    .where('a.created_at', '<', to)
    .where('a.provider_payment_id', 'is not', null)
    .where('a.status', 'in', ['succeeded', 'requires_capture'])
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('reconciliation_seen as s')
            .select('s.run_id')
            .where('s.run_id', '=', runId)
            .where('s.provider', '=', provider)
            .whereRef('s.provider_payment_id', '=', 'a.provider_payment_id'),
        ),
      ),
    );
  if (afterId) query = query.where('a.id', '>', afterId);
  return query.orderBy('a.id').limit(limit).execute();
}

/** One keyset page of attempts still waiting for an outcome that started before `cutoff`. */
export async function pendingAttempts(
  db: Executor,
  cutoff: Date,
  limit: number,
  afterId?: string,
): Promise<PaymentAttemptRow[]> {
  let query = db
    .selectFrom('payment_attempts')
    .selectAll()
    .where(unsettledAttempt)
    .where('status', '<>', 'requires_action')
    .where('created_at', '<', cutoff);
  if (afterId) query = query.where('id', '>', afterId);
  return query.orderBy('id').limit(limit).execute();
}
