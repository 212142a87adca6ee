import type { Insertable, Kysely, Transaction, Updateable } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { RoutingRuleRow, RoutingRulesTable } from './routing.table.js';

type Executor = Kysely<Database> | Transaction<Database>;

export async function listRoutingRules(db: Executor): Promise<RoutingRuleRow[]> {
  return db
    .selectFrom('routing_rules')
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
}

export async function findRoutingRule(db: Executor, id: string): Promise<RoutingRuleRow | undefined> {
  return db.selectFrom('routing_rules').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function lockRoutingRule(trx: Transaction<Database>, id: string) {
  return trx.selectFrom('routing_rules').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function insertRoutingRule(
  db: Executor,
  row: Insertable<RoutingRulesTable>,
): Promise<RoutingRuleRow> {
  return db.insertInto('routing_rules').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function updateRoutingRule(
  trx: Transaction<Database>,
  id: string,
  changes: Updateable<RoutingRulesTable>,
): Promise<RoutingRuleRow> {
  return trx
    .updateTable('routing_rules')
    .set(changes)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deleteRoutingRule(trx: Transaction<Database>, id: string): Promise<void> {
  await trx.deleteFrom('routing_rules').where('id', '=', id).execute();
}

export async function merchantExists(db: Executor, id: string): Promise<boolean> {
  return (
    (await db.selectFrom('merchants').select('id').where('id', '=', id).executeTakeFirst()) !== undefined
  );
}
