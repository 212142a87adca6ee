import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { ProviderControlRow, RuntimeSwitchRow } from './provider-controls.table.js';

type Executor = Kysely<Database> | Transaction<Database>;

export async function listProviderControls(db: Executor): Promise<ProviderControlRow[]> {
  return db.selectFrom('provider_controls').selectAll().execute();
}

export async function listRuntimeSwitches(db: Executor): Promise<RuntimeSwitchRow[]> {
  return db.selectFrom('runtime_switches').selectAll().execute();
}

export async function lockProviderControl(trx: Transaction<Database>, provider: string) {
  return trx
    .selectFrom('provider_controls')
    .selectAll()
    .where('provider', '=', provider)
    .forUpdate()
    .executeTakeFirst();
}

export async function upsertProviderControl(trx: Transaction<Database>, row: ProviderControlRow) {
  return trx
    .insertInto('provider_controls')
    .values(row)
    .onConflict((oc) =>
      oc.column('provider').doUpdateSet({
        forced_state: row.forced_state,
        updated_at: row.updated_at,
        updated_by: row.updated_by,
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deleteProviderControl(trx: Transaction<Database>, provider: string): Promise<void> {
  await trx.deleteFrom('provider_controls').where('provider', '=', provider).execute();
}

export async function lockRuntimeSwitch(trx: Transaction<Database>, name: string) {
  return trx
    .selectFrom('runtime_switches')
    .selectAll()
    .where('name', '=', name)
    .forUpdate()
    .executeTakeFirst();
}

export async function upsertRuntimeSwitch(trx: Transaction<Database>, row: RuntimeSwitchRow) {
  return trx
    .insertInto('runtime_switches')
    .values(row)
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet({ enabled: row.enabled, updated_at: row.updated_at, updated_by: row.updated_by }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}
