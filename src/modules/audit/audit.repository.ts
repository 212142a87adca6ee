import type { Insertable, Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { AuditLogTable, AuditRow } from './audit.table.js';

type Executor = Kysely<Database> | Transaction<Database>;

export async function insertAudit(db: Executor, row: Insertable<AuditLogTable>): Promise<AuditRow> {
  return db.insertInto('audit_log').values(row).returningAll().executeTakeFirstOrThrow();
}

export interface AuditFilters {
  actorId?: string | undefined;
  action?: string | undefined;
  resourceId?: string | undefined;
  since?: Date | undefined;
  limit: number;
}

export async function listAudit(db: Executor, filters: AuditFilters): Promise<AuditRow[]> {
  let query = db.selectFrom('audit_log').selectAll().orderBy('seq', 'desc').limit(filters.limit);
  if (filters.actorId) query = query.where('actor_id', '=', filters.actorId);
  if (filters.action) query = query.where('action', '=', filters.action);
  if (filters.resourceId) query = query.where('resource_id', '=', filters.resourceId);
  if (filters.since) query = query.where('occurred_at', '>=', filters.since);
  return query.execute();
}

/** When each failed operator login from `origin` happened since `since`, oldest first. */
export async function listFailedLoginTimes(db: Executor, origin: string, since: Date): Promise<Date[]> {
  const rows = await db
    .selectFrom('audit_log')
    .select('occurred_at')
    .where('action', '=', 'operator.login')
    .where('outcome', '=', 'failure')
    .where('origin', '=', origin)
    .where('occurred_at', '>=', since)
    .orderBy('occurred_at', 'asc')
    .execute();
  return rows.map((row) => row.occurred_at);
}

/** Locks the chain's tail until the caller's transaction ends: the one place appends are serialised. */
export async function lockChainHead(trx: Transaction<Database>) {
  return trx
    .selectFrom('audit_chain_head')
    .select(['seq', 'id', 'hash'])
    .forUpdate()
    .executeTakeFirstOrThrow();
}

export async function moveChainHead(
  trx: Transaction<Database>,
  row: { seq: number; id: string; hash: string },
) {
  await trx.updateTable('audit_chain_head').set(row).execute();
}

export async function readChainHead(db: Executor) {
  return db.selectFrom('audit_chain_head').select(['seq', 'id', 'hash']).executeTakeFirstOrThrow();
}

/** Rows after `afterSeq` in chain order, `limit` at a time: verification walks the log in pages. */
export async function listChainPage(db: Executor, afterSeq: number, limit: number): Promise<AuditRow[]> {
  return db
    .selectFrom('audit_log')
    .selectAll()
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit)
    .execute();
}

export async function findAuditByHash(db: Executor, hash: string) {
  return db.selectFrom('audit_log').select(['seq', 'id']).where('hash', '=', hash).executeTakeFirst();
}

export async function findAuditBySeq(db: Executor, seq: number) {
  return db.selectFrom('audit_log').select(['seq', 'id', 'hash']).where('seq', '=', seq).executeTakeFirst();
}

export async function findChainTail(db: Executor) {
  return db
    .selectFrom('audit_log')
    .select(['seq', 'id', 'hash'])
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
}
