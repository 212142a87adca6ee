// SQL for the operator's view of payments: across merchants and modes (operators are not a merchant;
// invariant 8 scopes merchant reads, these are admin reads behind `payment:read`). Lists are bounded by
// `limit`; the attempt counts read one window of payment_attempts.
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { EventRow } from '../events/events.table.js';
import type { OperatorPaymentFilters } from './operator-payments.js';
import type { ChargeRow, PaymentAttemptRow, PaymentIntentRow, RefundRow } from './payments.table.js';

type Executor = Kysely<Database> | Transaction<Database>;

const seconds = (n: number) => new Date(n * 1000);

/** Payment intents matching the filters, each with the provider of its latest attempt. */
export function operatorIntentsQuery(db: Executor, filters: OperatorPaymentFilters, now: Date) {
  let query = db
    .selectFrom('payment_intents as pi')
    .selectAll('pi')
    .select((eb) =>
      eb
        .selectFrom('payment_attempts as a')
        .select('a.provider')
        .whereRef('a.payment_intent_id', '=', 'pi.id')
        .orderBy('a.created_at', 'desc')
        .orderBy('a.id', 'desc')
        .limit(1)
        .as('provider'),
    );
  if (filters.status) query = query.where('pi.status', '=', filters.status);
  if (filters.merchant) query = query.where('pi.merchant_id', '=', filters.merchant);
  if (filters.customer) query = query.where('pi.customer_id', '=', filters.customer);
  if (filters.currency) query = query.where('pi.currency', '=', filters.currency);
  if (filters.livemode !== undefined) query = query.where('pi.livemode', '=', filters.livemode);
  if (filters.older_than !== undefined) {
    query = query.where('pi.created_at', '<', new Date(now.getTime() - filters.older_than * 1000));
  }
  const provider = filters.provider;
  if (provider) {
    query = query.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('payment_attempts as pa')
          .select('pa.id')
          .whereRef('pa.payment_intent_id', '=', 'pi.id')
          .where('pa.provider', '=', provider),
      ),
    );
  }
  const last4 = filters.last4;
  if (last4) {
    // The charge holds the card's display data for stored and test payment methods alike (test ids
    // such as pm_card_visa have no payment_methods row); a decline makes a failed charge too.
    query = query.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('charges as c')
          .select('c.id')
          .whereRef('c.payment_intent_id', '=', 'pi.id')
          .where(sql<string>`c.card->>'last4'`, '=', last4),
      ),
    );
  }
  const amount = filters.amount;
  if (typeof amount === 'number') query = query.where('pi.amount', '=', amount);
  else if (amount) {
    if (amount.gt !== undefined) query = query.where('pi.amount', '>', amount.gt);
    if (amount.gte !== undefined) query = query.where('pi.amount', '>=', amount.gte);
    if (amount.lt !== undefined) query = query.where('pi.amount', '<', amount.lt);
    if (amount.lte !== undefined) query = query.where('pi.amount', '<=', amount.lte);
  }
  // `created` is whole seconds, as in every list (http/pagination.ts), applied here because the
  // shared paginator's bare `created_at` would be ambiguous beside the attempt subquery.
  const created = filters.created;
  if (typeof created === 'number') {
    query = query
      .where('pi.created_at', '>=', seconds(created))
      .where('pi.created_at', '<', seconds(created + 1));
  } else if (created) {
    if (created.gt !== undefined) query = query.where('pi.created_at', '>=', seconds(created.gt + 1));
    if (created.gte !== undefined) query = query.where('pi.created_at', '>=', seconds(created.gte));
    if (created.lt !== undefined) query = query.where('pi.created_at', '<', seconds(created.lt));
    if (created.lte !== undefined) query = query.where('pi.created_at', '<', seconds(created.lte + 1));
  }
  return query;
}

export async function findIntentById(db: Executor, id: string): Promise<PaymentIntentRow | undefined> {
  return db.selectFrom('payment_intents').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function attemptsOfIntent(db: Executor, intentId: string): Promise<PaymentAttemptRow[]> {
  return db
    .selectFrom('payment_attempts')
    .selectAll()
    .where('payment_intent_id', '=', intentId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

export async function chargesOfIntent(db: Executor, intentId: string): Promise<ChargeRow[]> {
  return db
    .selectFrom('charges')
    .selectAll()
    .where('payment_intent_id', '=', intentId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

export async function refundsOfIntent(db: Executor, intentId: string): Promise<RefundRow[]> {
  return db
    .selectFrom('refunds')
    .selectAll()
    .where('payment_intent_id', '=', intentId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/** Events about any of these objects (the payment, its charges and refunds), oldest first. */
export async function eventsOfObjects(db: Executor, objectIds: string[], limit: number): Promise<EventRow[]> {
  if (objectIds.length === 0) return [];
  return db
    .selectFrom('events')
    .selectAll()
    .where('object_id', 'in', objectIds)
    .orderBy('created_at')
    .orderBy('id')
    .limit(limit)
    .execute();
}

export interface AttemptCountOptions {
  /** One mode only; both when left out. */
  livemode?: boolean | undefined;
  /** Also group by the bucket of this many seconds, counted from `since`, each attempt falls in. */
  bucketSeconds?: number | undefined;
}

/**
 * Attempts created in [since, until), counted per provider, currency, status and error type, with the
 * sum of their amounts; `bucket` is the time bucket's index with `bucketSeconds`, else 0.
 */
export async function attemptCounts(
  db: Executor,
  since: Date,
  until: Date,
  options: AttemptCountOptions = {},
) {
  const bucketSeconds = options.bucketSeconds;
  let query = db
    .selectFrom('payment_attempts')
    .select(['provider', 'status', 'currency'])
    .select(sql<string | null>`error->>'type'`.as('error_type'))
    .select((eb) => eb.fn.countAll<string | number>().as('count'))
    .select((eb) => eb.fn.sum<string | number>('amount').as('amount'))
    .select(
      bucketSeconds === undefined
        ? sql<number>`0`.as('bucket')
        : sql<number>`cast(floor(extract(epoch from (created_at - cast(${since} as timestamptz))) / ${sql.lit(bucketSeconds)}) as integer)`.as(
            'bucket',
          ),
    )
    .where('created_at', '>=', since)
    .where('created_at', '<', until)
    .groupBy(['provider', 'status', 'currency', sql`error->>'type'`]);
  if (options.livemode !== undefined) query = query.where('livemode', '=', options.livemode);
  // By the output column's name: the expression repeated here would carry a second parameter for
  // `since`, which PostgreSQL would not recognise as the same expression.
  if (bucketSeconds !== undefined) query = query.groupBy(sql`bucket`);
  const rows = await query.execute();
  return rows.map((row) => ({
    ...row,
    count: Number(row.count),
    amount: Number(row.amount),
    bucket: Number(row.bucket),
  }));
}

/**
 * The `fraction` percentile (0.99: p99) of processing time in milliseconds of one mode's attempts
 * created in [since, until) that reached a final outcome: from the attempt's `created_at` (written
 * before the provider is called) to its `settled_at` (written when the outcome is applied). Only the
 * attempt's own timestamps, so it measures the provider call plus our own work, and also any wait for
 * the shopper (3-D Secure) that came before the final outcome. A manual-capture attempt counts while
 * authorized and not once captured: its capture rewrites `settled_at` at the merchant's capture time,
 * which is not processing. Null when no attempt qualifies.
 */
export async function processingPercentile(
  db: Executor,
  since: Date,
  until: Date,
  livemode: boolean,
  fraction: number,
): Promise<number | null> {
  const row = await db
    .selectFrom('payment_attempts')
    .select(
      sql<
        string | number | null
      >`percentile_cont(${sql.lit(fraction)}) within group (order by extract(epoch from (settled_at - created_at)) * 1000)`.as(
        'ms',
      ),
    )
    .where('created_at', '>=', since)
    .where('created_at', '<', until)
    .where('livemode', '=', livemode)
    .where('status', 'in', ['succeeded', 'requires_capture', 'failed'])
    .where('settled_at', 'is not', null)
    .where(sql<boolean>`not (capture_method = 'manual' and status = 'succeeded')`)
    .executeTakeFirst();
  return row?.ms === null || row?.ms === undefined ? null : Math.round(Number(row.ms));
}
