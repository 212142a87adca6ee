// SQL for the inbound webhook inbox and the per-subject processing leases. Every function takes the
// executor first so the caller decides the transaction.
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import { insertJobsFrom, JOB_RECORD_COLUMNS, jobRecord, type NewJob } from '../../jobs/jobs.repository.js';
import type { InboxRow, InboxStatus } from './webhook-inbox.table.js';

type Executor = Kysely<Database> | Transaction<Database>;

export interface NewInboxRow {
  id: string;
  provider: InboxRow['provider'];
  providerEventId: string;
  type: string;
  subject: string;
  payload: unknown;
  occurredAt: Date;
  receivedAt: Date;
}

/** Stores an event once; undefined when (provider, provider_event_id) is already in the inbox. */
export async function insertInboxRow(db: Executor, row: NewInboxRow): Promise<string | undefined> {
  const inserted = await db
    .insertInto('webhook_inbox')
    .values({
      id: row.id,
      provider: row.provider,
      provider_event_id: row.providerEventId,
      type: row.type,
      subject: row.subject,
      payload: JSON.stringify(row.payload ?? null),
      occurred_at: row.occurredAt,
      received_at: row.receivedAt,
    })
    .onConflict((oc) => oc.columns(['provider', 'provider_event_id', 'occurred_at']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted?.id;
}

/**
 * Stores events once and, for each that was new, its processing job: one statement for the lot, so a
 * burst of deliveries costs one round trip per batch and no transaction (an event and its job commit
 * together or not at all). For each input, its id if it was stored, undefined for a duplicate.
 */
export async function insertInboxRowsWithJobs(
  db: Executor,
  inputs: { row: NewInboxRow; job: NewJob }[],
): Promise<(string | undefined)[]> {
  if (inputs.length === 0) return [];
  const records = inputs.map(({ row, job }) => ({
    id: row.id,
    provider: row.provider,
    provider_event_id: row.providerEventId,
    type: row.type,
    subject: row.subject,
    payload: row.payload ?? null,
    occurred_at: row.occurredAt.toISOString(),
    received_at: row.receivedAt.toISOString(),
    ...jobRecord(job),
  }));
  const result = await sql<{ id: string }>`
    with input as (
      select * from jsonb_to_recordset(${JSON.stringify(records)}::jsonb) as t(
        id text, provider text, provider_event_id text, type text, subject text, payload jsonb,
        occurred_at timestamptz, received_at timestamptz, ${JOB_RECORD_COLUMNS})
    ), inbox as (
      insert into webhook_inbox
        (id, provider, provider_event_id, type, subject, payload, occurred_at, received_at)
      select id, provider, provider_event_id, type, subject, payload, occurred_at, received_at from input
      on conflict (provider, provider_event_id, occurred_at) do nothing
      returning id
    ), stored as (
      select input.* from input join inbox using (id)
    ), job as (${insertJobsFrom('stored')})
    select id from inbox`.execute(db);
  const stored = new Set(result.rows.map((found) => found.id));
  return inputs.map(({ row }) => (stored.has(row.id) ? row.id : undefined));
}

export async function findInboxRow(db: Executor, id: string): Promise<InboxRow | undefined> {
  return db.selectFrom('webhook_inbox').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Counts one processing attempt of a row not yet done; undefined when it is gone or already done. */
export async function beginAttempt(db: Executor, id: string): Promise<InboxRow | undefined> {
  return db
    .updateTable('webhook_inbox')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id)
    .where('status', 'not in', ['processed', 'ignored'])
    .returningAll()
    .executeTakeFirst();
}

export interface LeaseRequest {
  holder: string;
  now: Date;
  expiresAt: Date;
}

/**
 * beginAttempt for several rows and, in the same statement, each one's subject lease for its holder
 * (acquireSubjectLock's rule, as of the earliest `now`): `locked` says whether that holder took it.
 * When two inputs name one subject (or one row) only the first can take the lease; the other waits
 * for it as it would have in two statements. Undefined for a row that is gone or already done.
 */
export async function beginAttemptsLocked(
  db: Executor,
  inputs: { id: string; lease: LeaseRequest }[],
): Promise<({ row: InboxRow; locked: boolean } | undefined)[]> {
  if (inputs.length === 0) return [];
  const now = new Date(Math.min(...inputs.map((input) => input.lease.now.getTime())));
  const records = inputs.map((input, n) => ({
    n,
    id: input.id,
    holder: input.lease.holder,
    expires_at: input.lease.expiresAt.toISOString(),
  }));
  const result = await sql<InboxRow & { lease_n: number; locked: boolean }>`
    with input as (
      select * from jsonb_to_recordset(${JSON.stringify(records)}::jsonb)
        as t(n integer, id text, holder text, expires_at timestamptz)
    ), counted as (
      select id, count(*)::int as times from input group by id
    ), row as (
      update webhook_inbox w set attempts = w.attempts + counted.times
      from counted
      where w.id = counted.id and w.status not in ('processed', 'ignored')
      returning w.*
    ), claim as (
      select distinct on (row.provider, row.subject) row.provider, row.subject, input.holder, input.expires_at
      from row join input on input.id = row.id
      order by row.provider, row.subject, input.n
    ), lock as (
      insert into webhook_subject_locks (provider, subject, holder, expires_at)
      select provider, subject, holder, expires_at from claim
      on conflict (provider, subject) do update
        set holder = excluded.holder, expires_at = excluded.expires_at
        where webhook_subject_locks.expires_at < ${now}::timestamptz
      returning holder
    )
    select row.*, input.n as lease_n,
      exists (select 1 from lock where lock.holder = input.holder) as locked
    from input join row on row.id = input.id`.execute(db);
  const byInput = new Map<number, { row: InboxRow; locked: boolean }>();
  for (const { lease_n, locked, ...row } of result.rows) byInput.set(lease_n, { row, locked });
  return inputs.map((_input, n) => byInput.get(n));
}

/**
 * Records outcomes that each release their subject lease (a finished attempt that held it), several
 * in one statement. A row appears at most once: only its lease holder finishes this way.
 */
export async function finishInboxRowsReleasing(
  db: Executor,
  outcomes: {
    id: string;
    outcome: { status: InboxStatus; processedAt: Date | null; error: string | null };
    release: { provider: string; subject: string; holder: string };
  }[],
): Promise<void> {
  if (outcomes.length === 0) return;
  const records = outcomes.map(({ id, outcome, release }) => ({
    id,
    status: outcome.status,
    processed_at: outcome.processedAt?.toISOString() ?? null,
    last_error: outcome.error,
    provider: release.provider,
    subject: release.subject,
    holder: release.holder,
  }));
  await sql`
    with input as (
      select * from jsonb_to_recordset(${JSON.stringify(records)}::jsonb) as t(
        id text, status text, processed_at timestamptz, last_error text, provider text, subject text,
        holder text)
    ), released as (
      delete from webhook_subject_locks l using input
      where l.provider = input.provider and l.subject = input.subject and l.holder = input.holder
    )
    update webhook_inbox w
    set status = input.status, processed_at = input.processed_at, last_error = input.last_error
    from input
    where w.id = input.id`.execute(db);
}

/** Records the outcome; with `release`, gives up that subject lease in the same statement. */
export async function finishInboxRow(
  db: Executor,
  id: string,
  outcome: { status: InboxStatus; processedAt: Date | null; error: string | null },
  release?: { provider: string; subject: string; holder: string },
): Promise<void> {
  if (!release) {
    await db
      .updateTable('webhook_inbox')
      .set({ status: outcome.status, processed_at: outcome.processedAt, last_error: outcome.error })
      .where('id', '=', id)
      .execute();
    return;
  }
  await sql`
    with released as (
      delete from webhook_subject_locks
      where provider = ${release.provider} and subject = ${release.subject} and holder = ${release.holder}
    )
    update webhook_inbox
    set status = ${outcome.status}, processed_at = ${outcome.processedAt}::timestamptz,
      last_error = ${outcome.error}::text
    where id = ${id}`.execute(db);
}

export interface InboxFilters {
  provider?: string | undefined;
  status?: InboxStatus | undefined;
  type?: string | undefined;
  /** received_at bounds, inclusive start, exclusive end. */
  from?: Date | undefined;
  to?: Date | undefined;
}

/** Newest first by (received_at, id); `after` is the last row of the previous page. */
export async function listInboxRows(
  db: Executor,
  filters: InboxFilters,
  page: { limit: number; after?: { received_at: Date; id: string } | undefined },
): Promise<InboxRow[]> {
  let query = db.selectFrom('webhook_inbox').selectAll();
  if (filters.provider) query = query.where('provider', '=', filters.provider as InboxRow['provider']);
  if (filters.status) query = query.where('status', '=', filters.status);
  if (filters.type) query = query.where('type', '=', filters.type);
  if (filters.from) query = query.where('received_at', '>=', filters.from);
  if (filters.to) query = query.where('received_at', '<', filters.to);
  if (page.after) {
    const { received_at, id } = page.after;
    query = query.where(sql<boolean>`(received_at, id) < (${received_at}, ${id})`);
  }
  return query.orderBy('received_at', 'desc').orderBy('id', 'desc').limit(page.limit).execute();
}

/**
 * Moves up to `limit` rows matching the replay selection back to pending and returns them. SKIP LOCKED
 * and the status re-checked by the UPDATE mean two concurrent replays never take the same row.
 */
export async function takeForReplay(
  trx: Transaction<Database>,
  selection: {
    id?: string | undefined;
    statuses: InboxStatus[];
    from?: Date | undefined;
    to?: Date | undefined;
  },
  limit: number,
): Promise<{ id: string }[]> {
  let candidates = trx
    .selectFrom('webhook_inbox')
    .select('id')
    .where('status', 'in', selection.statuses)
    .orderBy('received_at')
    .limit(limit)
    .forUpdate()
    .skipLocked();
  if (selection.id) candidates = candidates.where('id', '=', selection.id);
  if (selection.from) candidates = candidates.where('received_at', '>=', selection.from);
  if (selection.to) candidates = candidates.where('received_at', '<', selection.to);
  const ids = (await candidates.execute()).map((row) => row.id);
  if (ids.length === 0) return [];
  return trx
    .updateTable('webhook_inbox')
    .set({ status: 'pending', processed_at: null })
    .where('id', 'in', ids)
    .where('status', 'in', selection.statuses)
    .returning('id')
    .execute();
}

/** Rows waiting for processing (pending, or failed with a retry due) and dead ones, for the gauges. */
export async function countOpen(db: Executor): Promise<{ pending: number; dead: number }> {
  const rows = await db
    .selectFrom('webhook_inbox')
    .select(['status', sql<number>`count(*)::int`.as('count')])
    .where('status', 'in', ['pending', 'failed', 'dead'])
    .groupBy('status')
    .execute();
  const count = (status: string) => rows.find((row) => row.status === status)?.count ?? 0;
  return { pending: count('pending') + count('failed'), dead: count('dead') };
}

/**
 * Takes the lease on a subject for `holder` until `expiresAt`, or takes it over when the previous
 * holder's lease has passed (it crashed). Returns whether `holder` now holds it.
 */
export async function acquireSubjectLock(
  db: Executor,
  lock: { provider: string; subject: string; holder: string; now: Date; expiresAt: Date },
): Promise<boolean> {
  const row = await db
    .insertInto('webhook_subject_locks')
    .values({
      provider: lock.provider,
      subject: lock.subject,
      holder: lock.holder,
      expires_at: lock.expiresAt,
    })
    .onConflict((oc) =>
      oc
        .columns(['provider', 'subject'])
        .doUpdateSet({ holder: lock.holder, expires_at: lock.expiresAt })
        .where('webhook_subject_locks.expires_at', '<', lock.now),
    )
    .returning('holder')
    .executeTakeFirst();
  return row?.holder === lock.holder;
}

export async function releaseSubjectLock(
  db: Executor,
  lock: { provider: string; subject: string; holder: string },
): Promise<void> {
  await db
    .deleteFrom('webhook_subject_locks')
    .where('provider', '=', lock.provider)
    .where('subject', '=', lock.subject)
    .where('holder', '=', lock.holder)
    .execute();
}

/** Leases whose holder died without releasing them. */
export async function purgeExpiredSubjectLocks(db: Executor, now: Date): Promise<void> {
  await db.deleteFrom('webhook_subject_locks').where('expires_at', '<', now).execute();
}

/** Inbound events about any of these provider objects, oldest first (an operator's view of one payment). */
export async function inboxRowsAboutSubjects(
  db: Executor,
  subjects: { provider: string; subject: string }[],
  limit: number,
): Promise<InboxRow[]> {
  if (subjects.length === 0) return [];
  return db
    .selectFrom('webhook_inbox')
    .selectAll()
    .where((eb) =>
      eb.or(
        subjects.map((s) =>
          eb.and([eb('provider', '=', s.provider as InboxRow['provider']), eb('subject', '=', s.subject)]),
        ),
      ),
    )
    .orderBy('occurred_at')
    .orderBy('received_at')
    .orderBy('id')
    .limit(limit)
    .execute();
}
