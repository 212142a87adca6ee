import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import { inScope } from '../db/scope.js';
import type { Scope } from './expand.js';
import type { IdempotencyKeyRow } from './idempotency.table.js';

type Executor = Kysely<Database> | Transaction<Database>;

export async function insertKey(
  db: Executor,
  scope: Scope,
  row: { key: string; endpoint: string; requestHash: string; now: Date; lockedUntil: Date },
): Promise<boolean> {
  const inserted = await db
    .insertInto('idempotency_keys')
    .values({
      merchant_id: scope.merchantId,
      livemode: scope.livemode,
      key: row.key,
      created_at: row.now,
      endpoint: row.endpoint,
      request_hash: row.requestHash,
      locked_until: row.lockedUntil,
      recovery_point: 'started',
    })
    .onConflict((oc) => oc.columns(['merchant_id', 'livemode', 'key']).doNothing())
    .returning('key')
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function lockKey(trx: Transaction<Database>, scope: Scope, key: string) {
  return trx
    .selectFrom('idempotency_keys')
    .selectAll()
    .where(inScope(scope))
    .where('key', '=', key)
    .forUpdate()
    .executeTakeFirst();
}

export async function takeOver(trx: Transaction<Database>, scope: Scope, key: string, lockedUntil: Date) {
  await trx
    .updateTable('idempotency_keys')
    .set({ locked_until: lockedUntil })
    .where(inScope(scope))
    .where('key', '=', key)
    .execute();
}

export async function saveRecoveryPoint(
  db: Executor,
  scope: Scope,
  key: string,
  point: string,
  data: unknown,
) {
  await db
    .updateTable('idempotency_keys')
    .set({ recovery_point: point, recovery_data: data === undefined ? null : JSON.stringify(data) })
    .where(inScope(scope))
    .where('key', '=', key)
    .execute();
}

export async function finishKey(
  db: Executor,
  scope: Scope,
  key: string,
  response: { status: number; body: unknown; at: Date },
  /** Only while this lease is still the key's (the completer's claim): a retry's answer is never overwritten. */
  lease?: Date,
) {
  let query = db
    .updateTable('idempotency_keys')
    .set({
      locked_until: null,
      recovery_point: 'finished',
      response_status: response.status,
      response_body: JSON.stringify(response.body),
      finished_at: response.at,
    })
    .where(inScope(scope))
    .where('key', '=', key);
  if (lease) query = query.where('finished_at', 'is', null).where('locked_until', '=', lease);
  await query.execute();
}

/**
 * The completer's claim on an abandoned key: a new lease, taken only if the key is still unfinished
 * with an expired lease (one UPDATE, so a retry taking the key over at the same moment wins or loses
 * whole). Returns the row as it is now, or undefined when a retry finished or took it first.
 */
export async function claimAbandoned(db: Executor, scope: Scope, key: string, now: Date, lease: Date) {
  return db
    .updateTable('idempotency_keys')
    .set({ locked_until: lease })
    .where(inScope(scope))
    .where('key', '=', key)
    .where('finished_at', 'is', null)
    .where('locked_until', '<', now)
    .returningAll()
    .executeTakeFirst();
}

/** Gives a claimed key back (the completer could not finish it yet) with its expired lease, if still ours. */
export async function releaseClaim(
  db: Executor,
  scope: Scope,
  key: string,
  lease: Date,
  previous: Date | null,
) {
  await db
    .updateTable('idempotency_keys')
    .set({ locked_until: previous })
    .where(inScope(scope))
    .where('key', '=', key)
    .where('finished_at', 'is', null)
    .where('locked_until', '=', lease)
    .execute();
}

/** Frees a key whose request never began its work, so the client may use it again. */
/**
 * Frees an unfinished key. Only one still at its first recovery point, unless `afterProgress`: the
 * handler then vouches that its work was undone (a provider refusal that proved no charge).
 */
export async function deleteUnfinishedKey(db: Executor, scope: Scope, key: string, afterProgress = false) {
  let query = db
    .deleteFrom('idempotency_keys')
    .where(inScope(scope))
    .where('key', '=', key)
    .where('finished_at', 'is', null);
  if (!afterProgress) query = query.where('recovery_point', '=', 'started');
  await query.execute();
}

/** Deletes up to `batch` keys created before `before`; returns how many went. */
export async function purgeKeys(db: Executor, before: Date, batch: number): Promise<number> {
  const result = await sql`
    delete from idempotency_keys where ctid in (
      select ctid from idempotency_keys where created_at < ${before} limit ${batch}
    )`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

export async function findAbandoned(db: Executor, now: Date, limit: number): Promise<IdempotencyKeyRow[]> {
  return db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('finished_at', 'is', null)
    .where('locked_until', '<', now)
    .orderBy('locked_until')
    .limit(limit)
    .execute();
}
