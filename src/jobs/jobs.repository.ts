import { type Kysely, sql, type Transaction } from 'kysely';
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

/**
 * Claims up to `limit` due jobs for `worker`. SKIP LOCKED lets several processes claim side by side
 * without waiting on each other; a job whose lease has passed is claimable again.
 */
export async function claimJobs(
  db: Executor,
  worker: string,
  now: Date,
  leaseUntil: Date,
  names: string[],
  limit: number,
): Promise<JobRow[]> {
  if (names.length === 0 || limit <= 0) return [];
  const result = await sql<JobRow>`
    update jobs set locked_by = ${worker}, locked_until = ${leaseUntil}, attempts = attempts + 1
    where id in (
      select id from jobs
      where dead_at is null and run_at <= ${now}
        and (locked_until is null or locked_until < ${now})
        and name in (${sql.join(names)})
      order by run_at, id
      limit ${limit}
      for update skip locked
    )
    returning *`.execute(db);
  return result.rows;
}

export async function completeJob(db: Executor, id: number, worker: string): Promise<void> {
  await db.deleteFrom('jobs').where('id', '=', id).where('locked_by', '=', worker).execute();
}

export async function rescheduleJob(db: Executor, id: number, worker: string, runAt: Date, error: string) {
  await db
    .updateTable('jobs')
    .set({ run_at: runAt, locked_by: null, locked_until: null, last_error: error })
    .where('id', '=', id)
    .where('locked_by', '=', worker)
    .execute();
}

export async function killJob(db: Executor, id: number, worker: string, at: Date, error: string) {
  await db
    .updateTable('jobs')
    .set({ dead_at: at, locked_by: null, locked_until: null, last_error: error })
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

/** Advances every due schedule and returns it; concurrent callers each see a slot at most once. */
export async function takeDueSchedules(trx: Transaction<Database>, now: Date) {
  const result = await sql<{ name: string; job_name: string; payload: unknown; slot: Date }>`
    update job_schedules s
    set next_run_at = ${now}::timestamptz + make_interval(secs => s.interval_seconds)
    from (select name, next_run_at from job_schedules where next_run_at <= ${now} for update skip locked) due
    where s.name = due.name
    returning s.name, s.job_name, s.payload, due.next_run_at as slot`.execute(trx);
  return result.rows;
}
