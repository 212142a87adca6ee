import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { ApiKeyRow, ApiKeysTable } from './keys.table.js';

type Executor = Kysely<Database> | Transaction<Database>;
type NewKey = Omit<ApiKeysTable, 'scopes' | 'created_at' | 'replaced_by'> & {
  scopes: string | null;
  created_at: Date;
};

export async function insertKey(db: Executor, key: NewKey): Promise<ApiKeyRow> {
  return db.insertInto('api_keys').values(key).returningAll().executeTakeFirstOrThrow();
}

export async function findKeyByHash(db: Executor, secretHash: string): Promise<ApiKeyRow | undefined> {
  return db.selectFrom('api_keys').selectAll().where('secret_hash', '=', secretHash).executeTakeFirst();
}

export async function findKeyById(db: Executor, id: string): Promise<ApiKeyRow | undefined> {
  return db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listKeys(db: Executor, merchantId: string | undefined): Promise<ApiKeyRow[]> {
  let query = db.selectFrom('api_keys').selectAll().orderBy('created_at', 'desc');
  if (merchantId) query = query.where('merchant_id', '=', merchantId);
  return query.execute();
}

export async function setKeyRevoked(db: Executor, id: string, at: Date): Promise<ApiKeyRow | undefined> {
  return db
    .updateTable('api_keys')
    .set({ revoked_at: at })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

export async function setKeyReplaced(db: Executor, id: string, replacement: string, expiresAt: Date) {
  await db
    .updateTable('api_keys')
    .set({ expires_at: expiresAt, replaced_by: replacement })
    .where('id', '=', id)
    .execute();
}

/** Secret and restricted keys created before `before`, still working and not yet replaced by a rotation. */
export async function listRotationDue(db: Executor, before: Date, now: Date): Promise<ApiKeyRow[]> {
  return db
    .selectFrom('api_keys')
    .selectAll()
    .where('kind', 'in', ['secret', 'restricted'])
    .where('created_at', '<', before)
    .where('revoked_at', 'is', null)
    .where('replaced_by', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .orderBy('created_at', 'asc')
    .execute();
}

export async function touchKey(db: Executor, id: string, at: Date): Promise<void> {
  await db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
}
