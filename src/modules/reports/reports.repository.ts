// Report queries. Days are cut in SQL with `AT TIME ZONE` (same on PGlite and PostgreSQL), so a local day
// of 23 or 25 hours at a DST change is counted as the day it is. Sums come back as text: bigint sums of
// minor units must not pass through a driver's lossy number conversion.
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

export interface DailyQuery {
  merchantId: string;
  timezone: string;
  from: string;
  to: string;
  /** UTC bounds that surely contain every local day of the range (for the index on created_at). */
  since: Date;
  until: Date;
}

export interface DailyAggregate {
  date: string;
  livemode: boolean;
  gateway: string;
  currency: string;
  count: number;
  total: string;
}

export async function dailyPayments(db: Executor, q: DailyQuery): Promise<DailyAggregate[]> {
  const result = await sql<DailyAggregate>`
    select to_char((c.created_at at time zone ${q.timezone})::date, 'YYYY-MM-DD') as date,
           c.livemode, c.provider as gateway, c.currency,
           count(*)::int as count, sum(c.amount_captured)::text as total
    from charges c
    where c.merchant_id = ${q.merchantId}
      and c.status = 'succeeded' and c.captured
      and c.created_at >= ${q.since} and c.created_at < ${q.until}
      and (c.created_at at time zone ${q.timezone})::date between ${q.from}::date and ${q.to}::date
    group by 1, 2, 3, 4`.execute(db);
  return result.rows;
}

export async function dailyRefunds(db: Executor, q: DailyQuery): Promise<DailyAggregate[]> {
  const result = await sql<DailyAggregate>`
    select to_char((r.created_at at time zone ${q.timezone})::date, 'YYYY-MM-DD') as date,
           r.livemode, c.provider as gateway, r.currency,
           count(*)::int as count, sum(r.amount)::text as total
    from refunds r join charges c on c.id = r.charge_id
    where r.merchant_id = ${q.merchantId}
      and r.status = 'succeeded'
      and r.created_at >= ${q.since} and r.created_at < ${q.until}
      and (r.created_at at time zone ${q.timezone})::date between ${q.from}::date and ${q.to}::date
    group by 1, 2, 3, 4`.execute(db);
  return result.rows;
}

export interface MonthWindow {
  merchantId: string | undefined;
  timezone: string;
  /** Local timestamps `YYYY-MM-01 00:00:00` of the month and of the next, read in `timezone`. */
  start: string;
  end: string;
}

const inMonth = (column: string, w: MonthWindow) => sql`
  ${sql.ref(column)} >= (${w.start}::timestamp at time zone ${w.timezone})
  and ${sql.ref(column)} < (${w.end}::timestamp at time zone ${w.timezone})
  ${w.merchantId ? sql`and merchant_id = ${w.merchantId}` : sql``}`;

export interface MonthlyCharges {
  livemode: boolean;
  currency: string;
  transactions: number;
  successful: number;
  failed: number;
  volume: string | null;
}

export async function monthlyCharges(db: Executor, w: MonthWindow): Promise<MonthlyCharges[]> {
  const result = await sql<MonthlyCharges>`
    select livemode, currency, count(*)::int as transactions,
           (count(*) filter (where status = 'succeeded' and captured))::int as successful,
           (count(*) filter (where status = 'failed'))::int as failed,
           (sum(amount_captured) filter (where status = 'succeeded' and captured))::text as volume
    from charges where ${inMonth('created_at', w)}
    group by 1, 2`.execute(db);
  return result.rows;
}

export interface MonthlyTotals {
  livemode: boolean;
  currency: string;
  count: number;
  total: string | null;
  lost: number;
}

export async function monthlyRefunds(db: Executor, w: MonthWindow): Promise<MonthlyTotals[]> {
  const result = await sql<MonthlyTotals>`
    select livemode, currency, count(*)::int as count, sum(amount)::text as total, 0 as lost
    from refunds where status = 'succeeded' and ${inMonth('created_at', w)}
    group by 1, 2`.execute(db);
  return result.rows;
}

export async function monthlyDisputes(db: Executor, w: MonthWindow): Promise<MonthlyTotals[]> {
  const result = await sql<MonthlyTotals>`
    select livemode, currency, count(*)::int as count, sum(amount)::text as total,
           (count(*) filter (where status = 'lost'))::int as lost
    from disputes where ${inMonth('created_at', w)}
    group by 1, 2`.execute(db);
  return result.rows;
}

export interface SecurityAggregate {
  action: string;
  outcome: string;
  count: number;
  actors: number;
  origins: number;
}

export async function securitySummary(db: Executor, since: Date, until: Date): Promise<SecurityAggregate[]> {
  const result = await sql<SecurityAggregate>`
    select action, outcome, count(*)::int as count,
           count(distinct actor_id)::int as actors, count(distinct origin)::int as origins
    from audit_log
    where occurred_at >= ${since} and occurred_at < ${until}
    group by 1, 2
    order by 3 desc, 1, 2`.execute(db);
  return result.rows;
}
