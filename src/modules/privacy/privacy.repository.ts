// SQL for privacy export and erasure: everything held about one customer, found from the customer's id
// within its merchant and mode (invariant 8). A customer's records are its payment intents (index
// payment_intents_customer), their charges, refunds and disputes, the payment methods attached to it or
// used by its payments, its wallets, the events about any of those, the deliveries of those events and
// the stored idempotent answers of the requests that wrote them.
import { type Kysely, type SelectQueryBuilder, sql, type Transaction, type Updateable } from 'kysely';
import type { Database } from '../../db/schema.js';
import { inScope } from '../../db/scope.js';
import type { Scope } from '../../http/expand.js';
import type { CustomersTable } from '../customers/customers.table.js';
import { disputesWithBrand } from '../disputes/disputes.repository.js';

type Executor = Kysely<Database> | Transaction<Database>;
type Ids = SelectQueryBuilder<Database, keyof Database, { id: string }>;

/** Newest first by (created_at, id) of `table`, `take` rows: the export reads limit + 1 to know of more. */
export function newestFirst<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  table: string,
  take: number,
) {
  return query
    .orderBy(sql.ref(`${table}.created_at`), 'desc')
    .orderBy(sql.ref(`${table}.id`), 'desc')
    .limit(take);
}

/** Operators act across merchants: the customer is found by id alone, then everything else in its scope. */
export async function findCustomerById(db: Executor, id: string) {
  return db.selectFrom('customers').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function lockCustomerById(trx: Transaction<Database>, id: string) {
  return trx.selectFrom('customers').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function updateCustomerById(
  trx: Transaction<Database>,
  id: string,
  changes: Updateable<CustomersTable>,
) {
  return trx
    .updateTable('customers')
    .set(changes)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function intentIds(db: Executor, scope: Scope, customerId: string) {
  return db
    .selectFrom('payment_intents')
    .select('id')
    .where(inScope(scope))
    .where('customer_id', '=', customerId);
}

export function chargeIds(db: Executor, scope: Scope, customerId: string) {
  return db
    .selectFrom('charges')
    .select('id')
    .where(inScope(scope))
    .where('payment_intent_id', 'in', intentIds(db, scope, customerId));
}

/** Payment methods attached to the customer, or used by its payments (possibly never attached). */
export function paymentMethodsQuery(db: Executor, scope: Scope, customerId: string) {
  const intents = intentIds(db, scope, customerId);
  return db
    .selectFrom('payment_methods')
    .selectAll()
    .where(inScope(scope))
    .where((eb) =>
      eb.or([
        eb('customer_id', '=', customerId),
        eb(
          'id',
          'in',
          db
            .selectFrom('payment_intents')
            .select('payment_method_id')
            .where(inScope(scope))
            .where('customer_id', '=', customerId)
            .where('payment_method_id', 'is not', null)
            .$narrowType<{ payment_method_id: string }>(),
        ),
        eb(
          'id',
          'in',
          db
            .selectFrom('payment_attempts')
            .select('payment_method_id')
            .where('payment_intent_id', 'in', intents)
            .where('payment_method_id', 'is not', null)
            .$narrowType<{ payment_method_id: string }>(),
        ),
      ]),
    );
}

export function intentsQuery(db: Executor, scope: Scope, customerId: string) {
  return db
    .selectFrom('payment_intents')
    .selectAll()
    .where(inScope(scope))
    .where('customer_id', '=', customerId);
}

export function chargesQuery(db: Executor, scope: Scope, customerId: string) {
  return db
    .selectFrom('charges')
    .selectAll()
    .where(inScope(scope))
    .where('payment_intent_id', 'in', intentIds(db, scope, customerId));
}

export function refundsQuery(db: Executor, scope: Scope, customerId: string) {
  return db
    .selectFrom('refunds')
    .selectAll()
    .where(inScope(scope))
    .where('charge_id', 'in', chargeIds(db, scope, customerId));
}

/** The customer's disputes with their card brand, as the disputes module renders them. */
export function disputesQuery(db: Executor, scope: Scope, customerId: string) {
  return disputesWithBrand(db, scope).where('disputes.charge_id', 'in', chargeIds(db, scope, customerId));
}

export function walletsQuery(db: Executor, scope: Scope, customerId: string) {
  return db.selectFrom('wallets').selectAll().where(inScope(scope)).where('customer_id', '=', customerId);
}

export function attemptsQuery(db: Executor, scope: Scope, customerId: string) {
  return db
    .selectFrom('payment_attempts')
    .selectAll()
    .where(inScope(scope))
    .where('payment_intent_id', 'in', intentIds(db, scope, customerId));
}

/** The ids of every object of the customer that events can be about. */
function subjectIds(db: Executor, scope: Scope, customerId: string): Ids {
  const union = db
    .selectFrom('customers')
    .select('id')
    .where('id', '=', customerId)
    .unionAll(paymentMethodsQuery(db, scope, customerId).clearSelect().select('payment_methods.id'))
    .unionAll(intentIds(db, scope, customerId))
    .unionAll(chargeIds(db, scope, customerId))
    .unionAll(refundsQuery(db, scope, customerId).clearSelect().select('refunds.id'))
    .unionAll(disputesQuery(db, scope, customerId).clearSelect().select('disputes.id'))
    .unionAll(walletsQuery(db, scope, customerId).clearSelect().select('wallets.id'));
  return union as unknown as Ids;
}

export function eventsQuery(db: Executor, scope: Scope, customerId: string) {
  return db
    .selectFrom('events')
    .selectAll()
    .where(inScope(scope))
    .where('object_id', 'in', subjectIds(db, scope, customerId));
}

/** Outbound deliveries of the customer's events (found through the unique (event, endpoint) index). */
export function deliveriesQuery(db: Executor, scope: Scope, customerId: string) {
  return db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('event_id', 'in', eventsQuery(db, scope, customerId).clearSelect().select('events.id'));
}

export async function updateEventData(trx: Transaction<Database>, id: string, data: unknown): Promise<void> {
  // data is insert-only in the table's type (events never change); an erasure is the one exception.
  await sql`update events set data = ${JSON.stringify(data)}::jsonb where id = ${id}`.execute(trx);
}

/**
 * Stored idempotent answers that are one of the customer's objects (or a card error carrying its payment
 * intent). No index serves this: it reads the merchant's keys, which live 72 h (DESIGN section 5).
 */
export async function idempotencyRowsAbout(trx: Transaction<Database>, scope: Scope, customerId: string) {
  const subjects = subjectIds(trx, scope, customerId);
  return trx
    .selectFrom('idempotency_keys')
    .select(['key', 'response_body'])
    .where(inScope(scope))
    .where('response_body', 'is not', null)
    .where((eb) =>
      eb.or([
        eb(sql<string>`response_body->>'id'`, 'in', subjects),
        eb(sql<string>`response_body->>'customer'`, '=', customerId),
        eb(sql<string>`response_body->'error'->'payment_intent'->>'id'`, 'in', subjects),
      ]),
    )
    .forUpdate()
    .execute();
}

export async function updateIdempotencyResponse(
  trx: Transaction<Database>,
  scope: Scope,
  key: string,
  body: unknown,
): Promise<void> {
  await trx
    .updateTable('idempotency_keys')
    .set({ response_body: JSON.stringify(body) })
    .where(inScope(scope))
    .where('key', '=', key)
    .execute();
}

/** What receivers answered to deliveries of the customer's events (kept as response_excerpt). */
export async function deliveryAttemptsAbout(trx: Transaction<Database>, scope: Scope, customerId: string) {
  return trx
    .selectFrom('webhook_delivery_attempts')
    .select(['id', 'response_excerpt'])
    .where(
      'delivery_id',
      'in',
      deliveriesQuery(trx, scope, customerId).clearSelect().select('webhook_deliveries.id'),
    )
    .execute();
}

export async function updateAttemptExcerpt(trx: Transaction<Database>, id: number, excerpt: string) {
  await trx
    .updateTable('webhook_delivery_attempts')
    .set({ response_excerpt: excerpt })
    .where('id', '=', id)
    .execute();
}

/** The customer's records an erasure rewrites in place (their money columns are never in `changes`). */
export type ErasedTable =
  | 'payment_methods'
  | 'payment_intents'
  | 'payment_attempts'
  | 'charges'
  | 'refunds'
  | 'disputes'
  | 'wallets';

export async function updateRecord<T extends ErasedTable>(
  trx: Transaction<Database>,
  table: T,
  id: string,
  changes: Updateable<Database[T]>,
): Promise<void> {
  // One statement shape for every table: the name is cast so Kysely types it once.
  await trx
    .updateTable(table as 'wallets')
    .set(changes as Updateable<Database['wallets']>)
    .where('id', '=', id)
    .execute();
}

/**
 * The fraud rules' history of the customer's payments keeps its decisions and card fingerprints (ids,
 * not personal data) but loses the shopper's address and where it was geolocated.
 */
export async function forgetFraudSignals(trx: Transaction<Database>, intentIds: string[]): Promise<void> {
  if (intentIds.length === 0) return;
  await trx
    .updateTable('fraud_checks')
    .set({ shopper_ip: null, latitude: null, longitude: null })
    .where('payment_intent_id', 'in', intentIds)
    .execute();
}
