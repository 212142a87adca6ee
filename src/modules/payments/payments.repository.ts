// SQL for payment intents, attempts and charges. Every merchant-facing read is scoped by merchant and
// mode (invariant 8); attempts are also found by our id or the provider's, for webhooks, the return hop
// and the settlement job, which then act within the attempt's own scope.
import type { ExpressionBuilder, Insertable, Kysely, Transaction, Updateable } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Scope } from '../../http/expand.js';
import type { FraudChecksTable } from '../fraud/fraud.table.js';
import type {
  ChargeRow,
  ChargesTable,
  PaymentAttemptRow,
  PaymentAttemptsTable,
  PaymentIntentRow,
  PaymentIntentsTable,
  RefundRow,
} from './payments.table.js';

type Executor = Kysely<Database> | Transaction<Database>;

export async function insertIntent(
  db: Executor,
  row: Insertable<PaymentIntentsTable>,
): Promise<PaymentIntentRow> {
  return db.insertInto('payment_intents').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findIntent(
  db: Executor,
  scope: Scope,
  id: string,
): Promise<PaymentIntentRow | undefined> {
  return db
    .selectFrom('payment_intents')
    .selectAll()
    .where('id', '=', id)
    .where('merchant_id', '=', scope.merchantId)
    .where('livemode', '=', scope.livemode)
    .executeTakeFirst();
}

export async function lockIntent(trx: Transaction<Database>, scope: Scope, id: string) {
  return trx
    .selectFrom('payment_intents')
    .selectAll()
    .where('id', '=', id)
    .where('merchant_id', '=', scope.merchantId)
    .where('livemode', '=', scope.livemode)
    .forUpdate()
    .executeTakeFirst();
}

export async function updateIntent(
  db: Executor,
  id: string,
  changes: Updateable<PaymentIntentsTable>,
): Promise<PaymentIntentRow> {
  return db
    .updateTable('payment_intents')
    .set(changes)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function intentsQuery(db: Executor, scope: Scope, filters: { customer?: string | undefined }) {
  let query = db
    .selectFrom('payment_intents')
    .selectAll()
    .where('merchant_id', '=', scope.merchantId)
    .where('livemode', '=', scope.livemode);
  if (filters.customer !== undefined) query = query.where('customer_id', '=', filters.customer);
  return query;
}

/**
 * Inserts an attempt; `fraudCheck`, the fraud history row screened for it, goes in the same statement
 * (a data-modifying CTE: one round trip, and both rows or neither).
 */
export async function insertAttempt(
  db: Executor,
  row: Insertable<PaymentAttemptsTable>,
  fraudCheck?: Insertable<FraudChecksTable>,
): Promise<PaymentAttemptRow> {
  if (!fraudCheck) {
    return db.insertInto('payment_attempts').values(row).returningAll().executeTakeFirstOrThrow();
  }
  return db
    .with('fraud_check', (cte) => cte.insertInto('fraud_checks').values(fraudCheck).returning('id'))
    .insertInto('payment_attempts')
    .values(row)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findAttempt(db: Executor, id: string): Promise<PaymentAttemptRow | undefined> {
  return db.selectFrom('payment_attempts').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function lockAttempt(trx: Transaction<Database>, id: string) {
  return trx.selectFrom('payment_attempts').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function findAttemptByProviderId(db: Executor, provider: string, providerPaymentId: string) {
  return db
    .selectFrom('payment_attempts')
    .selectAll()
    .where('provider', '=', provider)
    .where('provider_payment_id', '=', providerPaymentId)
    .executeTakeFirst();
}

/** findAttemptByProviderId for several keys in one read: for each key, its attempt or undefined. */
export async function findAttemptsByProviderIds(
  db: Executor,
  keys: { provider: string; providerPaymentId: string }[],
): Promise<(PaymentAttemptRow | undefined)[]> {
  if (keys.length === 0) return [];
  const rows = await db
    .selectFrom('payment_attempts')
    .selectAll()
    .where((eb) =>
      eb(
        eb.refTuple('provider', 'provider_payment_id'),
        'in',
        keys.map((key) => eb.tuple(key.provider, key.providerPaymentId)),
      ),
    )
    .execute();
  const found = new Map(rows.map((row) => [`${row.provider}\u0000${row.provider_payment_id}`, row]));
  return keys.map((key) => found.get(`${key.provider}\u0000${key.providerPaymentId}`));
}

export async function updateAttempt(
  db: Executor,
  id: string,
  changes: Updateable<PaymentAttemptsTable>,
): Promise<PaymentAttemptRow> {
  return db
    .updateTable('payment_attempts')
    .set(changes)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Saves the provider object's id and moves a `started` attempt to `confirming`, only if it is still
 * `started`: a recovery and a request (or two recoveries) may run phase 2 of one attempt at once, and
 * the later one must not undo a settlement the earlier one has already written. Undefined when the
 * attempt had moved on.
 */
export async function markConfirming(
  db: Executor,
  id: string,
  providerPaymentId: string,
): Promise<PaymentAttemptRow | undefined> {
  return db
    .updateTable('payment_attempts')
    .set({ phase: 'confirming', provider_payment_id: providerPaymentId })
    .where('id', '=', id)
    .where('phase', '=', 'started')
    .returningAll()
    .executeTakeFirst();
}

/**
 * An attempt still waiting for evidence (unknown outcome, interrupted phase, capture or cancel in
 * flight): the predicate of the payment_attempts_unsettled partial index.
 */
export function unsettledAttempt(eb: ExpressionBuilder<Database, 'payment_attempts'>) {
  return eb.or([eb('phase', '<>', 'settled'), eb('pending_operation', 'is not', null)]);
}

/** Unsettled attempts whose next check is due. */
export async function dueAttempts(db: Executor, now: Date, limit: number): Promise<PaymentAttemptRow[]> {
  return db
    .selectFrom('payment_attempts')
    .selectAll()
    .where(unsettledAttempt)
    .where('next_check_at', '<=', now)
    .orderBy('next_check_at')
    .limit(limit)
    .execute();
}

export async function insertCharge(db: Executor, row: Insertable<ChargesTable>): Promise<ChargeRow> {
  return db.insertInto('charges').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findCharge(db: Executor, scope: Scope, id: string): Promise<ChargeRow | undefined> {
  return db
    .selectFrom('charges')
    .selectAll()
    .where('id', '=', id)
    .where('merchant_id', '=', scope.merchantId)
    .where('livemode', '=', scope.livemode)
    .executeTakeFirst();
}

export async function findChargeByAttempt(db: Executor, attemptId: string): Promise<ChargeRow | undefined> {
  return db.selectFrom('charges').selectAll().where('attempt_id', '=', attemptId).executeTakeFirst();
}

export async function lockChargeByAttempt(trx: Transaction<Database>, attemptId: string) {
  return trx
    .selectFrom('charges')
    .selectAll()
    .where('attempt_id', '=', attemptId)
    .forUpdate()
    .executeTakeFirst();
}

export async function updateCharge(
  db: Executor,
  id: string,
  changes: Updateable<ChargesTable>,
): Promise<ChargeRow> {
  return db.updateTable('charges').set(changes).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

export function chargesQuery(
  db: Executor,
  scope: Scope,
  filters: { customer?: string | undefined; payment_intent?: string | undefined },
) {
  let query = db
    .selectFrom('charges')
    .selectAll()
    .where('merchant_id', '=', scope.merchantId)
    .where('livemode', '=', scope.livemode);
  if (filters.customer !== undefined) query = query.where('customer_id', '=', filters.customer);
  if (filters.payment_intent !== undefined)
    query = query.where('payment_intent_id', '=', filters.payment_intent);
  return query;
}

/** Refunds of several charges in one query, newest first, for rendering charges with their refunds. */
export async function refundsOfCharges(db: Executor, chargeIds: string[]): Promise<Map<string, RefundRow[]>> {
  const byCharge = new Map<string, RefundRow[]>();
  if (chargeIds.length === 0) return byCharge;
  const rows = await db
    .selectFrom('refunds')
    .selectAll()
    .where('charge_id', 'in', chargeIds)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  for (const row of rows) {
    const list = byCharge.get(row.charge_id) ?? [];
    list.push(row);
    byCharge.set(row.charge_id, list);
  }
  return byCharge;
}
