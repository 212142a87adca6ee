import { type Kysely, type RawBuilder, sql, type Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import type { JobRow } from './jobs.table.js';

type Executor = Kysely<Database> | Transaction<Database>;

export interface NewJob {
  name: string;
  payload: unknown;
  runAt: Date;
  maxAttempts: number;
  uniqueKey?: string | undefined;
  createdAt: Date;
}

/** Inserts a job in the caller's transaction; a duplicate unique key is silently skipped. */
export async function insertJob(db: Executor, job: NewJob): Promise<number | undefined> {
  const row = await db
    .insertInto('jobs')
    .values({
      name: job.name,
      payload: JSON.stringify(job.payload ?? {}),
      run_at: job.runAt,
      max_attempts: job.maxAttempts,
      unique_key: job.uniqueKey ?? null,
      created_at: job.createdAt,
    })
    .onConflict((oc) => oc.column('unique_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  return row?.id;
}

/** A job's columns as a JSON record, for a caller's statement that inserts jobs with `insertJobsFrom`. */
export function jobRecord(job: NewJob) {
  return {
    job_name: job.name,
    job_payload: job.payload ?? {},
    job_run_at: job.runAt.toISOString(),
    job_max_attempts: job.maxAttempts,
    job_unique_key: job.uniqueKey ?? null,
    job_created_at: job.createdAt.toISOString(),
  };
}

/**
 * The INSERT of one job per row of the CTE `source`, whose `job_*` columns are `jobRecord`'s, for a
 * caller's statement that adds jobs only for the rows its own insert took (so no transaction is
 * needed). The same unique-key rule as insertJob.
 */
export function insertJobsFrom(source: string): RawBuilder<unknown> {
  return sql`
    insert into jobs (name, payload, run_at, max_attempts, unique_key, created_at)
    select job_name, job_payload, job_run_at, job_max_attempts, job_unique_key, job_created_at
    from ${sql.table(source)}
    on conflict (unique_key) do nothing`;
}

/** The columns of `jobRecord` for jsonb_to_recordset. */
export const JOB_RECORD_COLUMNS = sql.raw(
  'job_name text, job_payload jsonb, job_run_at timestamptz, job_max_attempts integer, job_unique_key text, job_created_at timestamptz',
);

/**
 * Claims up to `limit` due jobs for `worker`, each leased for its own job's `leaseMs`. SKIP LOCKED lets
 * several processes claim side by side without waiting on each other; a job whose lease has passed is
 * claimable again. The CTE is materialized so the LIMIT applies once: an IN (subquery) may be
 * re-evaluated by the planner and, with SKIP LOCKED, claim more rows than asked.
 *
 * `done` are jobs this worker finished since its last claim: the same statement deletes them (as
 * `completeJobs`), so a busy worker pays no round trip per finished job. They are excluded from the
 * claim even if their lease has passed, so one statement never both deletes and claims a row.
 */
export async function claimJobs(
  db: Executor,
  worker: string,
  now: Date,
  leaseMs: ReadonlyMap<string, number>,
  limit: number,
  done: readonly number[] = [],
): Promise<JobRow[]> {
  if (leaseMs.size === 0 || limit <= 0) {
    await completeJobs(db, done, worker);
    return [];
  }
  const leases = JSON.stringify(Object.fromEntries(leaseMs));
  const finished = idArray(done);
  const result = await sql<JobRow>`
    with finished as (
      delete from jobs where id = any(${finished}::bigint[]) and locked_by = ${worker}
    ), due as materialized (
      select id from jobs
      where dead_at is null and run_at <= ${now}
        and (locked_until is null or locked_until < ${now})
        and name in (${sql.join([...leaseMs.keys()])})
        and id <> all(${finished}::bigint[])
      order by run_at, id
      limit ${limit}
      for update skip locked
    )
    update jobs
    set locked_by = ${worker},
      locked_until = ${now}::timestamptz
        + make_interval(secs => (${leases}::jsonb ->> jobs.name)::float8 / 1000),
      attempts = jobs.attempts + 1
    from due
    where jobs.id = due.id
    returning jobs.*`.execute(db);
  return result.rows;
}

export async function completeJob(db: Executor, id: number, worker: string): Promise<void> {
  await db.deleteFrom('jobs').where('id', '=', id).where('locked_by', '=', worker).execute();
}

/** Deletes finished jobs `worker` still holds (one still held elsewhere, after its lease, stays). */
export async function completeJobs(db: Executor, ids: readonly number[], worker: string): Promise<void> {
  if (ids.length === 0) return;
  await sql`delete from jobs where id = any(${idArray(ids)}::bigint[]) and locked_by = ${worker}`.execute(db);
}

/** Job ids as one array literal parameter, which node-postgres and PGlite pass alike. */
function idArray(ids: readonly number[]): string {
  if (!ids.every((id) => Number.isSafeInteger(id))) throw new Error('job ids must be integers');
  return `{${ids.join(',')}}`;
}

export async function rescheduleJob(db: Executor, id: number, worker: string, runAt: Date, error: string) {
  await db
    .updateTable('jobs')
    .set({ run_at: runAt, locked_by: null, locked_until: null, last_error: error })
    .where('id', '=', id)
    .where('locked_by', '=', worker)
    .execute();
}

/** Dead-letters a claimed job. `uncount` takes back the attempt its claim counted but never ran. */
export async function killJob(
  db: Executor,
  id: number,
  worker: string,
  at: Date,
  error: string,
  uncount = false,
) {
  await db
    .updateTable('jobs')
    .set((eb) => ({
      dead_at: at,
      locked_by: null,
      locked_until: null,
      last_error: error,
      ...(uncount ? { attempts: eb('attempts', '-', 1) } : {}),
    }))
    .where('id', '=', id)
    .where('locked_by', '=', worker)
    .execute();
}

export async function queueDepth(db: Executor, now: Date) {
  const row = await db
    .selectFrom('jobs')
    .select([
      sql<number>`count(*) filter (where dead_at is null and run_at <= ${now})::int`.as('ready'),
      sql<number>`count(*) filter (where dead_at is null and run_at > ${now})::int`.as('scheduled'),
      sql<number>`count(*) filter (where dead_at is not null)::int`.as('dead'),
    ])
    .executeTakeFirstOrThrow();
  return row;
}

export async function upsertSchedule(
  db: Executor,
  schedule: { name: string; jobName: string; intervalSeconds: number; payload: unknown; firstRunAt: Date },
) {
  await db
    .insertInto('job_schedules')
    .values({
      name: schedule.name,
      job_name: schedule.jobName,
      interval_seconds: schedule.intervalSeconds,
      next_run_at: schedule.firstRunAt,
      payload: JSON.stringify(schedule.payload ?? {}),
    })
    .onConflict((oc) =>
      oc.column('name').doUpdateSet({
        job_name: schedule.jobName,
        interval_seconds: schedule.intervalSeconds,
        payload: JSON.stringify(schedule.payload ?? {}),
      }),
    )
    .execute();
}

/**
 * Advances every due schedule of the given jobs and returns it with its slot. Slots stay on the
 * schedule's cadence (first run + k x interval); slots missed while nobody polled collapse into the
 * latest one. SKIP LOCKED plus the re-checked `next_run_at` mean concurrent callers take a slot once.
 */
export async function takeDueSchedules(trx: Transaction<Database>, now: Date, jobNames: string[]) {
  if (jobNames.length === 0) return [];
  const result = await sql<{ name: string; job_name: string; payload: unknown; slot: Date }>`
    update job_schedules s
    set next_run_at = due.slot + make_interval(secs => s.interval_seconds)
    from (
      select name, next_run_at + make_interval(secs => interval_seconds)
        * floor(extract(epoch from (${now}::timestamptz - next_run_at)) / interval_seconds)::float8 as slot
      from job_schedules
      where next_run_at <= ${now} and job_name in (${sql.join(jobNames)})
      for update skip locked
    ) due
    where s.name = due.name
    returning s.name, s.job_name, s.payload, due.slot`.execute(trx);
  return result.rows;
}

/**
 * Deletes the dead-lettered jobs of `name` whose payload (the runner's `{ v, data }` envelope) has
 * `data[field]` in `ids`:
 * once their work is replayed under a new job, the dead letter is answered and must stop counting in
 * the dead-letter depth operators alert on.
 */
export async function discardDeadJobs(db: Executor, name: string, field: string, ids: string[]) {
  if (ids.length === 0) return;
  await db
    .deleteFrom('jobs')
    .where('name', '=', name)
    .where('dead_at', 'is not', null)
    .where(sql<string>`payload -> 'data' ->> ${field}`, 'in', ids)
    .execute();
}
