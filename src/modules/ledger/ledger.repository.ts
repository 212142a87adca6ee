// SQL of the ledger. Every function takes the executor first so the caller decides the transaction.
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { AccountIdentity } from './ledger.js';
import type { LedgerTransactionRow } from './ledger.table.js';

type Executor = Kysely<Database> | Transaction<Database>;

/**
 * Creates the accounts that do not exist yet (race-free: concurrent creators meet in ON CONFLICT), with
 * the single balance row of each account that may not go negative. Returns the ids this call inserted;
 * the others existed already and were committed by someone else.
 */
export async function ensureAccounts(
  db: Executor,
  accounts: AccountIdentity[],
  now: Date,
): Promise<Set<string>> {
  const rows = sql.join(
    accounts.map(
      (a) =>
        sql`(${a.id}::text, ${a.type}::text, ${a.livemode}::boolean, ${a.currency}::text, ${a.merchantId}::text, ${a.ownerId}::text, ${a.mayGoNegative}::boolean, ${now}::timestamptz)`,
    ),
  );
  const result = await sql<{ id: string }>`
    with inserted as (
      insert into ledger_accounts (id, type, livemode, currency, merchant_id, owner_id, may_go_negative, created_at)
      values ${rows}
      on conflict do nothing
      returning id, merchant_id, may_go_negative
    ), balances as (
      insert into ledger_balances (account_id, slot, merchant_id, may_go_negative, balance, version)
      select id, 0, merchant_id, false, 0, 0 from inserted where not may_go_negative
      on conflict do nothing
    )
    select id from inserted`.execute(db);
  return new Set(result.rows.map((row) => row.id));
}

/** Locks the balance rows of accounts that may not go negative, in ascending id order (no deadlocks). */
export async function lockBalances(trx: Transaction<Database>, accountIds: string[]) {
  const result = await sql<{ account_id: string; balance: number }>`
    select account_id, balance from ledger_balances
    where account_id in (${sql.join(accountIds)}) and slot = 0
    order by account_id
    for update`.execute(trx);
  return new Map(result.rows.map((row) => [row.account_id, row.balance]));
}

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
  entries: { accountId: string; currency: string; amount: number }[];
  /** One row per entry: which balance slot the entry is added to. */
  balances: {
    accountId: string;
    slot: number;
    merchantId: string | null;
    mayGoNegative: boolean;
    amount: number;
  }[];
  availability: { currency: string; amount: number } | null;
}

/**
 * Writes the transaction, its entries, the balance slots and the availability row in one statement.
 * Everything hangs off the transaction insert, so a posting key that exists already writes nothing and
 * returns no row. Slots are upserted in (account, slot) order so concurrent writers never cross.
 */
export async function writePosting(trx: Transaction<Database>, p: PostingWrite): Promise<boolean> {
  const entries = sql.join(
    p.entries.map((e) => sql`(${e.accountId}::text, ${e.currency}::text, ${e.amount}::bigint)`),
  );
  const ordered = [...p.balances].sort((a, b) =>
    a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : a.slot - b.slot,
  );
  const slotted = ordered.filter((b) => b.mayGoNegative);
  const locked = ordered.filter((b) => !b.mayGoNegative);
  // Accounts that may go negative: upserted into their slot. The insert half of an upsert must pass
  // the CHECK on its own, so the locked accounts (rows exist, locked by lockBalances) are updated instead.
  const slotUpsert =
    slotted.length === 0
      ? sql``
      : sql`, b as (
      insert into ledger_balances as lb (account_id, slot, merchant_id, may_go_negative, balance, version)
      select v.account_id, v.slot, v.merchant_id, true, v.amount, 1
      from (values ${sql.join(
        slotted.map(
          (b) => sql`(${b.accountId}::text, ${b.slot}::smallint, ${b.merchantId}::text, ${b.amount}::bigint)`,
        ),
      )}) as v(account_id, slot, merchant_id, amount)
      where exists (select 1 from t)
      order by v.account_id, v.slot
      on conflict (account_id, slot) do update
        set balance = lb.balance + excluded.balance, version = lb.version + 1
    )`;
  const lockedUpdate =
    locked.length === 0
      ? sql``
      : sql`, l as (
      update ledger_balances lb set balance = lb.balance + v.amount, version = lb.version + 1
      from (values ${sql.join(locked.map((b) => sql`(${b.accountId}::text, ${b.amount}::bigint)`))})
        as v(account_id, amount)
      where lb.account_id = v.account_id and lb.slot = 0 and exists (select 1 from t)
    )`;
  const view = p.balanceView;
  const availability = p.availability
    ? sql`, av as (
        insert into ledger_availability (transaction_id, merchant_id, livemode, currency, amount, available_on)
        select t.id, ${p.merchantId}::text, ${p.livemode}::boolean, ${p.availability.currency}::text,
          ${p.availability.amount}::bigint, ${p.availableOn}::timestamptz
        from t)`
    : sql``;
  const result = await sql<{ id: string }>`
    with t as (
      insert into ledger_transactions (id, key, content_hash, merchant_id, livemode, kind, source_type, source_id,
        description, created_at, bt_currency, bt_net, bt_fee, available_on)
      values (${p.id}, ${p.key}, ${p.contentHash}, ${p.merchantId}, ${p.livemode}, ${p.kind}, ${p.sourceType},
        ${p.sourceId}, ${p.description}, ${p.createdAt}, ${view?.currency ?? null}, ${view?.net ?? null}::bigint,
        ${view?.fee ?? null}::bigint, ${p.availableOn})
      on conflict (key) do nothing
      returning id
    ), e as (
      insert into ledger_entries (transaction_id, account_id, merchant_id, livemode, currency, amount, created_at)
      select t.id, v.account_id, ${p.merchantId}::text, ${p.livemode}::boolean, v.currency, v.amount,
        ${p.createdAt}::timestamptz
      from t cross join (values ${entries}) as v(account_id, currency, amount)
    )${slotUpsert}${lockedUpdate}${availability}
    select id from t`.execute(trx);
  return result.rows.length === 1;
}

export async function findTransactionByKey(
  db: Executor,
  key: string,
): Promise<LedgerTransactionRow | undefined> {
  return db.selectFrom('ledger_transactions').selectAll().where('key', '=', key).executeTakeFirst();
}

/** Cached balances (sum over slots) and versions of several accounts, read in one snapshot. */
export async function readBalances(db: Executor, accountIds: string[]) {
  if (accountIds.length === 0) return new Map<string, { balance: number; version: number }>();
  const result = await sql<{ account_id: string; balance: number; version: number }>`
    select account_id, sum(balance)::int8 as balance, sum(version)::int8 as version
    from ledger_balances where account_id in (${sql.join(accountIds)})
    group by account_id`.execute(db);
  return new Map(result.rows.map((row) => [row.account_id, { balance: row.balance, version: row.version }]));
}

/** Due pending funds, claimed so that concurrent release jobs never take the same row. */
export async function claimDueAvailability(trx: Transaction<Database>, now: Date, limit: number) {
  return trx
    .selectFrom('ledger_availability')
    .selectAll()
    .where('released_transaction_id', 'is', null)
    .where('available_on', '<=', now)
    .orderBy('available_on')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}

export async function markReleased(trx: Transaction<Database>, transactionId: string, releaseId: string) {
  await trx
    .updateTable('ledger_availability')
    .set({ released_transaction_id: releaseId })
    .where('transaction_id', '=', transactionId)
    .execute();
}
