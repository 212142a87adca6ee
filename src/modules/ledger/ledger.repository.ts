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

export async function markReleased(
  trx: Transaction<Database>,
  released: { transactionId: string; releaseId: string }[],
) {
  await sql`
    update ledger_availability a set released_transaction_id = r.release_id
    from unnest(${released.map((r) => r.transactionId)}::text[], ${released.map((r) => r.releaseId)}::text[])
      as r(transaction_id, release_id)
    where a.transaction_id = r.transaction_id`.execute(trx);
}

/**
 * Every posting (one row per entry, with its transaction and account) of the ledger transactions whose
 * source is one of `sourceIds`, and of the releases of those transactions from pending to available,
 * oldest first. For an operator's view of one payment: its charges, refunds and disputes post a few
 * transactions each.
 */
export async function postingsOfSources(db: Executor, sourceIds: string[], limit: number) {
  if (sourceIds.length === 0) return [];
  return db
    .selectFrom('ledger_transactions as t')
    .innerJoin('ledger_entries as e', 'e.transaction_id', 't.id')
    .innerJoin('ledger_accounts as a', 'a.id', 'e.account_id')
    .select([
      't.id as transaction_id',
      't.kind',
      't.source_type',
      't.source_id',
      't.created_at',
      'e.id as entry_id',
      'e.account_id',
      'a.type as account_type',
      'a.owner_id as account_owner',
      'e.currency',
      'e.amount',
    ])
    .where((eb) =>
      eb.or([
        eb('t.source_id', 'in', sourceIds),
        eb.and([
          eb('t.source_type', '=', 'balance_transaction'),
          eb(
            't.source_id',
            'in',
            eb.selectFrom('ledger_transactions as s').select('s.id').where('s.source_id', 'in', sourceIds),
          ),
        ]),
      ]),
    )
    .orderBy('t.created_at')
    .orderBy('t.id')
    .orderBy('e.id')
    .limit(limit)
    .execute();
}
