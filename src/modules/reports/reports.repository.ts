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
