import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { MerchantRow } from './merchants.table.js';

type Executor = Kysely<Database> | Transaction<Database>;

export async function insertMerchant(
  db: Executor,
  merchant: { id: string; name: string; timezone?: string; created_at: Date },
) {
  return db.insertInto('merchants').values(merchant).returningAll().executeTakeFirstOrThrow();
}

export async function findMerchant(db: Executor, id: string): Promise<MerchantRow | undefined> {
  return db.selectFrom('merchants').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function countMerchants(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('merchants')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .executeTakeFirst();
  return row?.count ?? 0;
}
