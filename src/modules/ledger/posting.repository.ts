// Posting through ledger_post() (migration 0004): lock, check and write in one round trip, so a locked
// account is held only for the function and the commit right after it, never across a round trip to
// the application. That is what keeps busy wallets moving under concurrency.
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

export interface PostingWrite {
  id: string;
  key: string;
  contentHash: string;
  merchantId: string | null;
  livemode: boolean;
  kind: string;
  sourceType: string;
  sourceId: string;
  description: string | null;
  createdAt: Date;
  availableOn: Date;
  balanceView: { currency: string; net: number; fee: number } | null;
  entries: {
    accountId: string;
    currency: string;
    amount: number;
    /** May not go negative: locked and checked, always balance slot 0. */
    guarded: boolean;
    /** The balance slot an account that may go negative is added to. */
    slot: number;
    /** The account's merchant, carried on its balance rows. */
    owner: string | null;
  }[];
  pendingCredit: { currency: string; amount: number } | null;
}

export type PostingResult =
  | { status: 'posted' }
  | { status: 'exists' }
  | { status: 'short'; balances: Record<string, number | null> };

/**
 * Posts in order, each written or refused on its own, in one statement. Every account that may not go
 * negative among them is locked first, in ascending id order.
 */
export async function writePostings(db: Executor, postings: PostingWrite[]): Promise<PostingResult[]> {
  const guarded = [
    ...new Set(postings.flatMap((p) => p.entries.filter((e) => e.guarded).map((e) => e.accountId))),
  ].sort();
  const each = <T>(pick: (p: PostingWrite) => T) => postings.map(pick);
  const entries = postings.flatMap((p) => p.entries);
  const entry = <T>(pick: (e: PostingWrite['entries'][number]) => T) => entries.map(pick);
  let first = 1;
  const firsts = postings.map((p) => {
    const at = first;
    first += p.entries.length;
    return at;
  });
  const result = await sql<{ results: PostingResult[] }>`
    select ledger_post(
      ${guarded}::text[], ${each((p) => p.id)}::text[], ${each((p) => p.key)}::text[],
      ${each((p) => p.contentHash)}::text[], ${each((p) => p.merchantId)}::text[],
      ${each((p) => p.livemode)}::boolean[], ${each((p) => p.kind)}::text[],
      ${each((p) => p.sourceType)}::text[], ${each((p) => p.sourceId)}::text[],
      ${each((p) => p.description)}::text[], ${each((p) => p.createdAt.toISOString())}::timestamptz[],
      ${each((p) => p.availableOn.toISOString())}::timestamptz[],
      ${each((p) => p.balanceView?.currency ?? null)}::text[],
      ${each((p) => p.balanceView?.net ?? null)}::bigint[], ${each((p) => p.balanceView?.fee ?? null)}::bigint[],
      ${each((p) => p.pendingCredit?.currency ?? null)}::text[],
      ${each((p) => p.pendingCredit?.amount ?? null)}::bigint[], ${firsts}::int[],
      ${each((p) => p.entries.length)}::int[],
      ${postings.flatMap((p, i) => p.entries.map(() => i + 1))}::int[], ${entry((e) => e.accountId)}::text[],
      ${entry((e) => e.currency)}::text[], ${entry((e) => e.amount)}::bigint[],
      ${entry((e) => e.guarded)}::boolean[], ${entry((e) => e.slot)}::smallint[],
      ${entry((e) => e.owner)}::text[]
    ) as results`.execute(db);
  const results = result.rows[0]?.results;
  if (!results || results.length !== postings.length) throw new Error('ledger_post returned no result');
  return results;
}
