import type { Insertable, Kysely, Transaction, Updateable } from 'kysely';
import type { Database } from '../../db/schema.js';
import { inScope } from '../../db/scope.js';
import type { Scope } from '../../http/expand.js';
import type { CustomerRow, CustomersTable } from './customers.table.js';

type Executor = Kysely<Database> | Transaction<Database>;

export async function insertCustomer(db: Executor, row: Insertable<CustomersTable>): Promise<CustomerRow> {
  return db.insertInto('customers').values(row).returningAll().executeTakeFirstOrThrow();
}

/** Every read is scoped by merchant and mode (invariant 8): another merchant's id is simply not found. */
export async function findCustomer(db: Executor, scope: Scope, id: string): Promise<CustomerRow | undefined> {
  return db.selectFrom('customers').selectAll().where('id', '=', id).where(inScope(scope)).executeTakeFirst();
}

export async function lockCustomer(trx: Transaction<Database>, scope: Scope, id: string) {
  return trx
    .selectFrom('customers')
    .selectAll()
    .where('id', '=', id)
    .where(inScope(scope))
    .forUpdate()
    .executeTakeFirst();
}

export async function updateCustomer(
  db: Executor,
  scope: Scope,
  id: string,
  changes: Updateable<CustomersTable>,
): Promise<CustomerRow> {
  return db
    .updateTable('customers')
    .set(changes)
    .where('id', '=', id)
    .where(inScope(scope))
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function customersQuery(db: Executor, scope: Scope, filters: { email?: string | undefined }) {
  let query = db.selectFrom('customers').selectAll().where(inScope(scope)).where('deleted_at', 'is', null);
  if (filters.email !== undefined) query = query.where('email', '=', filters.email);
  return query;
}

export async function customerCreatedAt(db: Executor, scope: Scope, id: string): Promise<Date | undefined> {
  return (await findCustomer(db, scope, id))?.created_at;
}
