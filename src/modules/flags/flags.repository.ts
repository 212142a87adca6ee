import type { Kysely, Transaction, Updateable } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { FeatureFlagRolloutRow, FeatureFlagRow, FeatureFlagsTable } from './flags.table.js';

type Executor = Kysely<Database> | Transaction<Database>;

export async function listFlags(db: Executor): Promise<FeatureFlagRow[]> {
  return db.selectFrom('feature_flags').selectAll().execute();
}

export async function listRollouts(db: Executor, flag?: string): Promise<FeatureFlagRolloutRow[]> {
  let query = db.selectFrom('feature_flag_rollouts').selectAll();
  if (flag !== undefined) query = query.where('flag', '=', flag);
  return query.execute();
}

/**
 * The flag's row, locked, so changes to one flag are made one at a time; inserted first (not killed)
 * if the flag was never changed.
 */
export async function lockFlag(
  trx: Transaction<Database>,
  name: string,
  now: Date,
  by: string,
): Promise<FeatureFlagRow> {
  await trx
    .insertInto('feature_flags')
    .values({ name, killed: false, killed_at: null, killed_by: null, updated_at: now, updated_by: by })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  return trx
    .selectFrom('feature_flags')
    .selectAll()
    .where('name', '=', name)
    .forUpdate()
    .executeTakeFirstOrThrow();
}

export async function updateFlag(
  trx: Transaction<Database>,
  name: string,
  changes: Updateable<FeatureFlagsTable>,
): Promise<FeatureFlagRow> {
  return trx
    .updateTable('feature_flags')
    .set(changes)
    .where('name', '=', name)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function upsertRollouts(
  trx: Transaction<Database>,
  rows: FeatureFlagRolloutRow[],
): Promise<void> {
  if (rows.length === 0) return;
  await trx
    .insertInto('feature_flag_rollouts')
    .values(rows)
    .onConflict((oc) =>
      oc.columns(['flag', 'environment']).doUpdateSet((eb) => ({
        percentage: eb.ref('excluded.percentage'),
        updated_at: eb.ref('excluded.updated_at'),
        updated_by: eb.ref('excluded.updated_by'),
      })),
    )
    .execute();
}
