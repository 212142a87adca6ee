// SQL of the outbox: delivery rows, their attempts, and the one read a delivery job makes (delivery,
// endpoint and event joined) before it sends. Outcomes are single statements so a delivery costs few
// round trips.
import { type Insertable, type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import type {
  AttemptErrorKind,
  DeliveryStatus,
  WebhookDeliveriesTable,
  WebhookDeliveryRow,
} from './webhooks-out.table.js';

type Executor = Kysely<Database> | Transaction<Database>;

/** Inserts deliveries; an (event, endpoint) pair that already has one is left alone. */
export async function insertDeliveries(db: Executor, rows: Insertable<WebhookDeliveriesTable>[]) {
  if (rows.length === 0) return [];
  return db
    .insertInto('webhook_deliveries')
    .values(rows)
    .onConflict((oc) => oc.columns(['event_id', 'endpoint_id', 'event_created_at']).doNothing())
    .returning(['id', 'step'])
    .execute();
}

/** What a delivery job needs, in one read; undefined when the job is stale (another step, or done). */
export async function loadForSend(db: Executor, id: string, step: number) {
  return sendQuery(db).where('d.id', '=', id).where('d.step', '=', step).executeTakeFirst();
}

/** loadForSend for several jobs in one read: for each key, its row or undefined. */
export async function loadManyForSend(db: Executor, keys: { id: string; step: number }[]) {
  if (keys.length === 0) return [];
  const rows = await sendQuery(db)
    .where(
      'd.id',
      'in',
      keys.map((key) => key.id),
    )
    .execute();
  const byId = new Map(rows.map((row) => [row.id, row]));
  return keys.map((key) => {
    const row = byId.get(key.id);
    return row && row.step === key.step ? row : undefined;
  });
}

function sendQuery(db: Executor) {
  return db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
    .innerJoin('events as ev', 'ev.id', 'd.event_id')
    .select([
      'd.id',
      'd.step',
      'd.rung',
      'd.attempts',
      'd.merchant_id',
      'd.livemode',
      'd.endpoint_id',
      'd.event_created_at',
      'e.url',
      'e.status as endpoint_status',
      'e.deleted_at as endpoint_deleted_at',
      'e.secret_ciphertext',
      'e.previous_secret_ciphertext',
      'e.previous_secret_expires_at',
      'e.failing_since',
      'ev.id as event_id',
      'ev.type as event_type',
      'ev.created_at as event_at',
      'ev.data as event_data',
      'ev.request_id as event_request_id',
      'ev.idempotency_key as event_idempotency_key',
    ])
    .where('d.status', 'in', ['pending', 'failed']);
}

export type SendRow = NonNullable<Awaited<ReturnType<typeof loadForSend>>>;

export interface AttemptRecord {
  deliveryId: string;
  endpointId: string;
  step: number;
  at: Date;
  statusCode: number | null;
  errorKind: AttemptErrorKind | null;
  latencyMs: number;
  excerpt: string;
  /** The delivery's state after this attempt. */
  status: DeliveryStatus;
  nextStep: number;
  nextRung: number;
  nextAttemptAt: Date | null;
  lastError: string | null;
}

/**
 * Logs the attempt, moves the delivery on (only if still at `step`: a replay in between wins) and keeps
 * the endpoint's failure run: a success clears `failing_since`, a failure starts it if none is running.
 * Both endpoint updates match nothing in the common case, so the endpoint row is not a hot spot.
 */
export async function recordAttempt(db: Executor, a: AttemptRecord): Promise<boolean> {
  const succeeded = a.status === 'succeeded';
  const endpointUpdate = succeeded
    ? sql`update webhook_endpoints set failing_since = null
          where id = ${a.endpointId} and failing_since is not null`
    : sql`update webhook_endpoints set failing_since = ${a.at}
          where id = ${a.endpointId} and failing_since is null`;
  const result = await sql<{ id: string }>`
    with attempt as (
      insert into webhook_delivery_attempts
        (delivery_id, attempted_at, status_code, error_kind, latency_ms, response_excerpt)
      values (${a.deliveryId}, ${a.at}, ${a.statusCode}, ${a.errorKind}, ${a.latencyMs}, ${a.excerpt})
    ), endpoint as (${endpointUpdate})
    update webhook_deliveries
    set status = ${a.status}, attempts = attempts + 1, step = ${a.nextStep}, rung = ${a.nextRung},
      next_attempt_at = ${a.nextAttemptAt}, last_status_code = ${a.statusCode},
      last_error = ${a.lastError}, updated_at = ${a.at},
      delivered_at = ${succeeded ? a.at : null}
    where id = ${a.deliveryId} and step = ${a.step}
    returning id`.execute(db);
  return result.rows.length > 0;
}

/**
 * recordAttempt for successful attempts only, several in one statement: each attempt logged, each
 * delivery moved on (if still at its step), and the endpoints' failure runs cleared. Failures are
 * recorded one by one (recordAttempt), since they may start a run and enqueue a retry.
 */
export async function recordSuccesses(db: Executor, attempts: AttemptRecord[]): Promise<void> {
  if (attempts.length === 0) return;
  if (attempts.some((a) => a.status !== 'succeeded')) throw new Error('recordSuccesses takes successes only');
  const records = attempts.map((a) => ({
    delivery_id: a.deliveryId,
    endpoint_id: a.endpointId,
    step: a.step,
    attempted_at: a.at.toISOString(),
    status_code: a.statusCode,
    latency_ms: a.latencyMs,
    response_excerpt: a.excerpt,
    next_step: a.nextStep,
    next_rung: a.nextRung,
  }));
  await sql`
    with input as (
      select * from jsonb_to_recordset(${JSON.stringify(records)}::jsonb) as t(
        delivery_id text, endpoint_id text, step integer, attempted_at timestamptz, status_code integer,
        latency_ms integer, response_excerpt text, next_step integer, next_rung integer)
    ), attempt as (
      insert into webhook_delivery_attempts
        (delivery_id, attempted_at, status_code, error_kind, latency_ms, response_excerpt)
      select delivery_id, attempted_at, status_code, null, latency_ms, response_excerpt from input
    ), endpoint as (
      update webhook_endpoints set failing_since = null
      where id in (select endpoint_id from input) and failing_since is not null
    )
    update webhook_deliveries d
    set status = 'succeeded', attempts = d.attempts + 1, step = input.next_step, rung = input.next_rung,
      next_attempt_at = null, last_status_code = input.status_code, last_error = null,
      updated_at = input.attempted_at, delivered_at = input.attempted_at
    from input
    where d.id = input.delivery_id and d.step = input.step`.execute(db);
}

/** Stops a delivery without an attempt (its endpoint is disabled or deleted). */
export async function stopDelivery(db: Executor, id: string, step: number, at: Date, reason: string) {
  await db
    .updateTable('webhook_deliveries')
    .set({ status: 'dead', next_attempt_at: null, last_error: reason, updated_at: at })
    .where('id', '=', id)
    .where('step', '=', step)
    .execute();
}

/**
 * Puts deliveries back at the start of the ladder (a replay): the same row and id, so the
 * `webhook-id` receivers deduplicate on stays the same. Returns the rows with their new step.
 */
export async function requeueDeliveries(trx: Transaction<Database>, ids: string[], at: Date) {
  if (ids.length === 0) return [];
  return trx
    .updateTable('webhook_deliveries')
    .set((eb) => ({
      status: 'pending',
      step: eb('step', '+', 1),
      rung: 0,
      next_attempt_at: at,
      updated_at: at,
    }))
    .where('id', 'in', ids)
    .returning(['id', 'step'])
    .execute();
}

export async function outboxCounts(db: Executor) {
  return db
    .selectFrom('webhook_deliveries')
    .select([
      sql<number>`count(*) filter (where status in ('pending', 'failed'))::int`.as('pending'),
      sql<number>`count(*) filter (where status = 'dead')::int`.as('dead'),
    ])
    .where('status', 'in', ['pending', 'failed', 'dead'])
    .executeTakeFirstOrThrow();
}

export async function findDelivery(db: Executor, id: string): Promise<WebhookDeliveryRow | undefined> {
  return db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function attemptsOf(db: Executor, id: string) {
  return db
    .selectFrom('webhook_delivery_attempts')
    .selectAll()
    .where('delivery_id', '=', id)
    .orderBy('id')
    .execute();
}

export interface DeliveryFilters {
  endpoint?: string | undefined;
  event?: string | undefined;
  status?: DeliveryStatus | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

export function deliveriesQuery(db: Executor, filters: DeliveryFilters) {
  let query = db.selectFrom('webhook_deliveries').selectAll();
  if (filters.endpoint) query = query.where('endpoint_id', '=', filters.endpoint);
  if (filters.event) query = query.where('event_id', '=', filters.event);
  if (filters.status) query = query.where('status', '=', filters.status);
  if (filters.from) query = query.where('created_at', '>=', filters.from);
  if (filters.to) query = query.where('created_at', '<', filters.to);
  return query;
}

/** Where a page of deliveries ends: deliveries are paged in (created_at, id) order. */
export interface DeliveryCursor {
  created_at: Date;
  id: string;
}

/**
 * Up to `limit` deliveries `filters` select, oldest first, after `cursor`. Replays leave created_at
 * alone, so walking the pages reaches every selected delivery once, however they change meanwhile.
 */
export async function deliveryPage(
  db: Executor,
  filters: DeliveryFilters,
  cursor: DeliveryCursor | undefined,
  limit: number,
): Promise<DeliveryCursor[]> {
  let query = deliveriesQuery(db, filters).clearSelect().select(['created_at', 'id']);
  if (cursor) {
    query = query.where((eb) =>
      eb.or([
        eb('created_at', '>', cursor.created_at),
        eb.and([eb('created_at', '=', cursor.created_at), eb('id', '>', cursor.id)]),
      ]),
    );
  }
  return query.orderBy('created_at').orderBy('id').limit(limit).execute();
}

/** The deliveries of these events with their endpoint's URL, oldest first (an operator's view of one payment). */
export async function deliveriesOfEvents(db: Executor, eventIds: string[], limit: number) {
  if (eventIds.length === 0) return [];
  return db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_endpoints as w', 'w.id', 'd.endpoint_id')
    .selectAll('d')
    .select('w.url as endpoint_url')
    .where('d.event_id', 'in', eventIds)
    .orderBy('d.created_at')
    .orderBy('d.id')
    .limit(limit)
    .execute();
}
