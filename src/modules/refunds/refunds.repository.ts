// SQL for refunds, and the charge row refunds lock: a charge's amount_refunded is the reservation that
// keeps refunded + lost in disputes within what was captured, under concurrent requests too. Merchant
// reads are scoped by merchant and mode (invariant 8); webhooks and the recovery job find a refund by
// its id or the provider's and then act within the refund's own scope.
import type { Insertable, Kysely, Transaction, Updateable } from 'kysely';
import type { Database } from '../../db/schema.js';
import { inScope } from '../../db/scope.js';
import type { Scope } from '../../http/expand.js';
import type { ChargeRow, RefundRow, RefundsTable } from '../payments/payments.table.js';

type Executor = Kysely<Database> | Transaction<Database>;

export async function lockCharge(
  trx: Transaction<Database>,
  scope: Scope,
  id: string,
): Promise<ChargeRow | undefined> {
  return trx
    .selectFrom('charges')
    .selectAll()
    .where('id', '=', id)
    .where(inScope(scope))
    .forUpdate()
    .executeTakeFirst();
}

export async function lockChargeById(trx: Transaction<Database>, id: string): Promise<ChargeRow | undefined> {
  return trx.selectFrom('charges').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

/** Adds `delta` (negative to release) to the charge's amount_refunded; the CHECK keeps it in bounds. */
export async function addRefunded(trx: Transaction<Database>, chargeId: string, delta: number) {
  return trx
    .updateTable('charges')
    .set((eb) => ({ amount_refunded: eb('amount_refunded', '+', delta) }))
    .where('id', '=', chargeId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function insertRefund(db: Executor, row: Insertable<RefundsTable>): Promise<RefundRow> {
  return db.insertInto('refunds').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findRefund(db: Executor, scope: Scope, id: string): Promise<RefundRow | undefined> {
  return db.selectFrom('refunds').selectAll().where('id', '=', id).where(inScope(scope)).executeTakeFirst();
}

export async function lockRefund(trx: Transaction<Database>, scope: Scope, id: string) {
  return trx
    .selectFrom('refunds')
    .selectAll()
    .where('id', '=', id)
    .where(inScope(scope))
    .forUpdate()
    .executeTakeFirst();
}

export async function findRefundById(db: Executor, id: string): Promise<RefundRow | undefined> {
  return db.selectFrom('refunds').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function lockRefundById(trx: Transaction<Database>, id: string): Promise<RefundRow | undefined> {
  return trx.selectFrom('refunds').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function findRefundByProviderId(db: Executor, providerRefundId: string) {
  return db
    .selectFrom('refunds')
    .selectAll()
    .where('provider_refund_id', '=', providerRefundId)
    .executeTakeFirst();
}

export async function updateRefund(
  db: Executor,
  id: string,
  changes: Updateable<RefundsTable>,
): Promise<RefundRow> {
  return db.updateTable('refunds').set(changes).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

/** Only a reservation the provider never saw is deleted (the request proved nothing was refunded). */
export async function deleteRefund(trx: Transaction<Database>, id: string): Promise<void> {
  await trx.deleteFrom('refunds').where('id', '=', id).execute();
}

export function refundsQuery(
  db: Executor,
  scope: Scope,
  filters: { charge?: string | undefined; payment_intent?: string | undefined },
) {
  let query = db.selectFrom('refunds').selectAll().where(inScope(scope));
  if (filters.charge !== undefined) query = query.where('charge_id', '=', filters.charge);
  if (filters.payment_intent !== undefined)
    query = query.where('payment_intent_id', '=', filters.payment_intent);
  return query;
}

/** Refunds whose outcome is not known yet and whose next check is due, oldest check first. */
export async function dueRefunds(db: Executor, now: Date, limit: number): Promise<RefundRow[]> {
  return db
    .selectFrom('refunds')
    .selectAll()
    .where('phase', '<>', 'settled')
    .where('next_check_at', '<=', now)
    .orderBy('next_check_at')
    .limit(limit)
    .execute();
}
