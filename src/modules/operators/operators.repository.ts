import { type Insertable, type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { OperatorSessionsTable, OperatorsTable, OperatorTokensTable } from './operators.table.js';

type Executor = Kysely<Database> | Transaction<Database>;

export async function insertOperator(db: Executor, row: Insertable<OperatorsTable>) {
  return db.insertInto('operators').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findOperatorByEmail(db: Executor, email: string) {
  // Emails are stored lower-cased and a unique index on lower(email) keeps one account per address.
  return db
    .selectFrom('operators')
    .selectAll()
    .where(sql<string>`lower(email)`, '=', email.toLowerCase())
    .executeTakeFirst();
}

export async function findOperator(db: Executor, id: string) {
  return db.selectFrom('operators').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listOperators(db: Executor) {
  return db.selectFrom('operators').selectAll().orderBy('created_at', 'asc').execute();
}

export async function insertSession(db: Executor, row: Insertable<OperatorSessionsTable>) {
  await db.insertInto('operator_sessions').values(row).execute();
}

export async function findSessionByHash(db: Executor, tokenHash: string) {
  return db
    .selectFrom('operator_sessions')
    .innerJoin('operators', 'operators.id', 'operator_sessions.operator_id')
    .select([
      'operator_sessions.id as session_id',
      'operator_sessions.last_seen_at',
      'operator_sessions.expires_at',
      'operator_sessions.revoked_at',
      'operator_sessions.mfa_verified',
      'operators.id',
      'operators.email',
      'operators.role',
      'operators.disabled_at',
    ])
    .where('operator_sessions.token_hash', '=', tokenHash)
    .executeTakeFirst();
}

export async function touchSession(db: Executor, sessionId: string, at: Date) {
  await db.updateTable('operator_sessions').set({ last_seen_at: at }).where('id', '=', sessionId).execute();
}

export async function revokeSessionByHash(db: Executor, tokenHash: string, at: Date) {
  const row = await db
    .updateTable('operator_sessions')
    .set({ revoked_at: at })
    .where('token_hash', '=', tokenHash)
    .where('revoked_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return row?.id;
}

export async function setOperatorDisabled(db: Executor, id: string, at: Date) {
  return db
    .updateTable('operators')
    .set({ disabled_at: at })
    .where('id', '=', id)
    .where('disabled_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

export async function insertToken(db: Executor, row: Insertable<OperatorTokensTable>) {
  await db.insertInto('operator_tokens').values(row).execute();
}

export async function findTokenByHash(db: Executor, tokenHash: string) {
  return db
    .selectFrom('operator_tokens')
    .innerJoin('operators', 'operators.id', 'operator_tokens.operator_id')
    .select([
      'operator_tokens.id as token_id',
      'operator_tokens.revoked_at',
      'operators.totp_enrolled_at',
      'operators.id',
      'operators.email',
      'operators.role',
      'operators.disabled_at',
    ])
    .where('operator_tokens.token_hash', '=', tokenHash)
    .executeTakeFirst();
}

export async function listTokens(db: Executor, operatorId: string | undefined) {
  let query = db
    .selectFrom('operator_tokens')
    .select(['id', 'operator_id', 'name', 'created_at', 'last_used_at', 'revoked_at'])
    .orderBy('created_at', 'desc');
  if (operatorId) query = query.where('operator_id', '=', operatorId);
  return query.execute();
}

export async function findToken(db: Executor, id: string) {
  return db.selectFrom('operator_tokens').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function setTokenRevoked(db: Executor, id: string, at: Date) {
  return db
    .updateTable('operator_tokens')
    .set({ revoked_at: at })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
}

export async function touchToken(db: Executor, tokenId: string, at: Date) {
  await db.updateTable('operator_tokens').set({ last_used_at: at }).where('id', '=', tokenId).execute();
}
