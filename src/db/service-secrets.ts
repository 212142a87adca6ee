// Installation-wide secrets, generated once and stored in the database so every replica agrees on them.
import { randomBytes } from 'node:crypto';
import type { ColumnType, Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from './schema.js';

export interface ServiceSecretsTable {
  name: string;
  value: string;
  created_at: ColumnType<Date, Date, never>;
}

/** Returns the secret called `name`, creating 32 random bytes the first time (race-free across replicas). */
export async function ensureServiceSecret(db: Kysely<Database>, clock: Clock, name: string): Promise<Buffer> {
  await db
    .insertInto('service_secrets')
    .values({ name, value: randomBytes(32).toString('base64'), created_at: clock.now() })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db
    .selectFrom('service_secrets')
    .select('value')
    .where('name', '=', name)
    .executeTakeFirstOrThrow();
  return Buffer.from(row.value, 'base64');
}
