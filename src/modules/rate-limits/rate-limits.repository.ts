// SQL for per-key rate limits. Executor first, so callers pick the transaction.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

export async function listKeyRateLimits(db: Executor) {
  return db.selectFrom('api_key_rate_limits').select(['key_id', 'per_second']).execute();
}

export async function findKeyRateLimit(db: Executor, keyId: string) {
  return db
    .selectFrom('api_key_rate_limits')
    .select(['key_id', 'per_second'])
    .where('key_id', '=', keyId)
    .executeTakeFirst();
}

export async function keyExists(db: Executor, keyId: string): Promise<boolean> {
  return (
    (await db.selectFrom('api_keys').select('id').where('id', '=', keyId).executeTakeFirst()) !== undefined
  );
}

export async function upsertKeyRateLimit(
  db: Executor,
  row: { key_id: string; per_second: number; updated_at: Date; updated_by: string | null },
): Promise<void> {
  await db
    .insertInto('api_key_rate_limits')
    .values(row)
    .onConflict((oc) =>
      oc.column('key_id').doUpdateSet({
        per_second: row.per_second,
        updated_at: row.updated_at,
        updated_by: row.updated_by,
      }),
    )
    .execute();
}

export async function deleteKeyRateLimit(db: Executor, keyId: string): Promise<void> {
  await db.deleteFrom('api_key_rate_limits').where('key_id', '=', keyId).execute();
}
