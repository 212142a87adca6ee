import type { Insertable, Kysely, Transaction, Updateable } from 'kysely';
import type { Database } from '../../db/schema.js';
import { inScope } from '../../db/scope.js';
import type { Scope } from '../../http/expand.js';
import type { PaymentMethodRow, PaymentMethodsTable } from './payment-methods.table.js';

type Executor = Kysely<Database> | Transaction<Database>;

export async function insertPaymentMethod(
  db: Executor,
  row: Insertable<PaymentMethodsTable>,
): Promise<PaymentMethodRow> {
  return db.insertInto('payment_methods').values(row).returningAll().executeTakeFirstOrThrow();
}

/** Scoped by merchant and mode (invariant 8): anything else is simply not found. */
export async function findPaymentMethod(db: Executor, scope: Scope, id: string) {
  return db
    .selectFrom('payment_methods')
    .selectAll()
    .where('id', '=', id)
    .where(inScope(scope))
    .executeTakeFirst();
}

export async function lockPaymentMethod(trx: Transaction<Database>, scope: Scope, id: string) {
  return trx
    .selectFrom('payment_methods')
    .selectAll()
    .where('id', '=', id)
    .where(inScope(scope))
    .forUpdate()
    .executeTakeFirst();
}

export async function updatePaymentMethod(
  db: Executor,
  scope: Scope,
  id: string,
  changes: Updateable<PaymentMethodsTable>,
): Promise<PaymentMethodRow> {
  return db
    .updateTable('payment_methods')
    .set(changes)
    .where('id', '=', id)
    .where(inScope(scope))
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function customerPaymentMethodsQuery(db: Executor, scope: Scope, customerId: string) {
  return db
    .selectFrom('payment_methods')
    .selectAll()
    .where(inScope(scope))
    .where('customer_id', '=', customerId);
}
