// SQL for reviews and the charge column that names a charge's review. Merchant reads are scoped by
// merchant and mode (invariant 8); the rollback marking reads across merchants, as an operator action.
import { type Insertable, type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Scope } from '../../http/expand.js';
import type { ReviewRow, ReviewsTable } from './reviews.table.js';

type Executor = Kysely<Database> | Transaction<Database>;

export function reviewsQuery(db: Executor, scope: Scope) {
  return db
    .selectFrom('reviews')
    .selectAll()
    .where('merchant_id', '=', scope.merchantId)
    .where('livemode', '=', scope.livemode);
}

export async function findReview(db: Executor, scope: Scope, id: string): Promise<ReviewRow | undefined> {
  return reviewsQuery(db, scope).where('id', '=', id).executeTakeFirst();
}

export async function lockReview(
  trx: Transaction<Database>,
  scope: Scope,
  id: string,
): Promise<ReviewRow | undefined> {
  return reviewsQuery(trx, scope).where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function closeReview(
  trx: Transaction<Database>,
  id: string,
  closedReason: NonNullable<ReviewRow['closed_reason']>,
  at: Date,
): Promise<ReviewRow> {
  return trx
    .updateTable('reviews')
    .set({ open: false, closed_reason: closedReason, reason: closedReason, closed_at: at })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Succeeded payments created since `cutoff` (every merchant and mode) whose latest charge has no open
 * review and was never marked by a rollback before: the ones a rollback marking opens a review on.
 */
export async function rollbackCandidates(trx: Transaction<Database>, cutoff: Date) {
  return trx
    .selectFrom('payment_intents')
    .innerJoin('charges', 'charges.id', 'payment_intents.latest_charge_id')
    .select([
      'charges.id as charge_id',
      'payment_intents.id as payment_intent_id',
      'payment_intents.merchant_id',
      'payment_intents.livemode',
    ])
    .where('payment_intents.status', '=', 'succeeded')
    .where('payment_intents.created_at', '>=', cutoff)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('reviews')
            .select(sql`1`.as('one'))
            .whereRef('reviews.charge_id', '=', 'charges.id')
            .where((eb) =>
              eb.or([eb('reviews.open', '=', true), eb('reviews.opened_reason', '=', 'system_rollback')]),
            ),
        ),
      ),
    )
    .orderBy('payment_intents.created_at')
    .orderBy('payment_intents.id')
    .execute();
}

/** Inserts reviews; one already open on a charge (a concurrent marking) keeps it and skips this one. */
export async function insertReviews(
  trx: Transaction<Database>,
  rows: Insertable<ReviewsTable>[],
): Promise<ReviewRow[]> {
  if (rows.length === 0) return [];
  return trx
    .insertInto('reviews')
    .values(rows)
    .onConflict((oc) => oc.column('charge_id').where('open', '=', true).doNothing())
    .returningAll()
    .execute();
}

export async function openReviewOf(
  trx: Transaction<Database>,
  chargeId: string,
): Promise<string | undefined> {
  const row = await trx
    .selectFrom('reviews')
    .select('id')
    .where('charge_id', '=', chargeId)
    .where('open', '=', true)
    .executeTakeFirst();
  return row?.id;
}

export async function setChargeReview(trx: Transaction<Database>, chargeId: string, reviewId: string) {
  await trx.updateTable('charges').set({ review_id: reviewId }).where('id', '=', chargeId).execute();
}

/** A payment's reviews, oldest first, whichever merchant it belongs to (an operator's view). */
export async function reviewsOfPayment(db: Executor, paymentIntentId: string): Promise<ReviewRow[]> {
  return db
    .selectFrom('reviews')
    .selectAll()
    .where('payment_intent_id', '=', paymentIntentId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/** Reviews across merchants (operators), narrowed by open state and mode; paginated by the caller. */
export function operatorReviewsQuery(
  db: Executor,
  filters: { open?: boolean | undefined; livemode?: boolean | undefined },
) {
  let query = db.selectFrom('reviews').selectAll();
  if (filters.open !== undefined) query = query.where('open', '=', filters.open);
  if (filters.livemode !== undefined) query = query.where('livemode', '=', filters.livemode);
  return query;
}

export async function findReviewById(db: Executor, id: string): Promise<ReviewRow | undefined> {
  return db.selectFrom('reviews').selectAll().where('id', '=', id).executeTakeFirst();
}
