// SQL for disputes and the charge columns they change (disputed, dispute_status, amount lost). Disputes
// arrive from provider webhooks, so they are found by the provider's ids and then written within the
// charge's own merchant and mode.
import { type Insertable, type Kysely, sql, type Transaction, type Updateable } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Scope } from '../../http/expand.js';
import type { ChargeRow, ChargesTable } from '../payments/payments.table.js';
import type { DisputeRow, DisputesTable } from './disputes.table.js';

type Executor = Kysely<Database> | Transaction<Database>;

export async function findChargeByProviderCharge(
  db: Executor,
  provider: string,
  providerChargeId: string,
): Promise<ChargeRow | undefined> {
  return db
    .selectFrom('charges')
    .selectAll()
    .where('provider', '=', provider)
    .where('provider_charge_id', '=', providerChargeId)
    .executeTakeFirst();
}

export async function lockChargeById(trx: Transaction<Database>, id: string): Promise<ChargeRow | undefined> {
  return trx.selectFrom('charges').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function updateCharge(
  trx: Transaction<Database>,
  id: string,
  changes: Updateable<ChargesTable>,
): Promise<ChargeRow> {
  return trx
    .updateTable('charges')
    .set(changes)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Adds to the charge's amount lost in disputes (the CHECK keeps refunded + lost within captured). */
export async function addLost(trx: Transaction<Database>, chargeId: string, amount: number) {
  return trx
    .updateTable('charges')
    .set((eb) => ({ amount_lost_in_disputes: eb('amount_lost_in_disputes', '+', amount) }))
    .where('id', '=', chargeId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findDisputeByProviderId(
  trx: Transaction<Database>,
  provider: string,
  providerDisputeId: string,
): Promise<DisputeRow | undefined> {
  return trx
    .selectFrom('disputes')
    .selectAll()
    .where('provider', '=', provider)
    .where('provider_dispute_id', '=', providerDisputeId)
    .forUpdate()
    .executeTakeFirst();
}

export async function insertDispute(
  trx: Transaction<Database>,
  row: Insertable<DisputesTable>,
): Promise<DisputeRow> {
  return trx.insertInto('disputes').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function updateDispute(
  trx: Transaction<Database>,
  id: string,
  changes: Updateable<DisputesTable>,
): Promise<DisputeRow> {
  return trx
    .updateTable('disputes')
    .set(changes)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findDisputeForUpdate(trx: Transaction<Database>, id: string): Promise<DisputeRow> {
  return trx.selectFrom('disputes').selectAll().where('id', '=', id).forUpdate().executeTakeFirstOrThrow();
}

/** A scope's disputes with their charge's card brand, as the dispute object renders them. */
export function disputesWithBrand(db: Executor, scope: Scope) {
  return db
    .selectFrom('disputes')
    .innerJoin('charges', 'charges.id', 'disputes.charge_id')
    .selectAll('disputes')
    .select(sql<string | null>`charges.card->>'brand'`.as('card_brand'))
    .where('disputes.merchant_id', '=', scope.merchantId)
    .where('disputes.livemode', '=', scope.livemode);
}

export async function findDispute(db: Executor, scope: Scope, id: string) {
  return disputesWithBrand(db, scope).where('disputes.id', '=', id).executeTakeFirst();
}

export function disputesQuery(
  db: Executor,
  scope: Scope,
  filters: { charge?: string | undefined; paymentIntent?: string | undefined },
) {
  let query = disputesWithBrand(db, scope);
  if (filters.charge) query = query.where('disputes.charge_id', '=', filters.charge);
  if (filters.paymentIntent) query = query.where('disputes.payment_intent_id', '=', filters.paymentIntent);
  return query;
}

/** The wallet a charge topped up (its payment intent is marked `wallet_topup`), or undefined. */
export async function findTopUpWallet(
  trx: Transaction<Database>,
  paymentIntentId: string,
): Promise<{ id: string; customer_id: string } | undefined> {
  return trx
    .selectFrom('payment_intents')
    .innerJoin('wallets', (join) =>
      join.on(sql<boolean>`wallets.id = payment_intents.extra->>'wallet_topup'`),
    )
    .select(['wallets.id', 'wallets.customer_id'])
    .where('payment_intents.id', '=', paymentIntentId)
    .executeTakeFirst();
}

export interface OperatorDisputeFilters {
  status?: DisputeRow['status'] | undefined;
  livemode?: boolean | undefined;
  /** Evidence due strictly before this instant (disputes without a deadline are left out). */
  dueBefore?: Date | undefined;
}

/**
 * Disputes across merchants for operators, newest first, with their charge's card brand, after the
 * dispute `after` of a previous page; `limit + 1` rows so the caller can tell whether more follow.
 */
export async function operatorDisputes(
  db: Executor,
  filters: OperatorDisputeFilters,
  page: { limit: number; after?: { created_at: Date; id: string } | undefined },
) {
  let query = db
    .selectFrom('disputes')
    .innerJoin('charges', 'charges.id', 'disputes.charge_id')
    .selectAll('disputes')
    .select(sql<string | null>`charges.card->>'brand'`.as('card_brand'));
  if (filters.status) query = query.where('disputes.status', '=', filters.status);
  if (filters.livemode !== undefined) query = query.where('disputes.livemode', '=', filters.livemode);
  if (filters.dueBefore) query = query.where('disputes.due_by', '<', filters.dueBefore);
  if (page.after) {
    const { created_at, id } = page.after;
    query = query.where(sql<boolean>`(disputes.created_at, disputes.id) < (${created_at}, ${id})`);
  }
  return query
    .orderBy('disputes.created_at', 'desc')
    .orderBy('disputes.id', 'desc')
    .limit(page.limit + 1)
    .execute();
}

export async function findDisputeById(db: Executor, id: string): Promise<DisputeRow | undefined> {
  return db.selectFrom('disputes').selectAll().where('id', '=', id).executeTakeFirst();
}
