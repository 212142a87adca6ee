// Merchant-facing reads of the ledger, always scoped by merchant and mode (DESIGN invariant 8).
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import { inScope } from '../../db/scope.js';
import type { Scope } from '../../http/expand.js';
import type { LedgerKind } from './ledger.js';

type Executor = Kysely<Database> | Transaction<Database>;

export interface BalanceTransactionFilters {
  kinds?: LedgerKind[] | undefined;
  currency?: string | undefined;
  source?: string | undefined;
}

export function balanceTransactionsQuery(
  db: Executor,
  scope: Scope,
  filters: BalanceTransactionFilters = {},
) {
  let query = db
    .selectFrom('ledger_transactions')
    .selectAll()
    .select(
      sql<boolean>`exists (select 1 from ledger_availability a
        where a.transaction_id = ledger_transactions.id and a.released_transaction_id is null)`.as('pending'),
    )
    .where(inScope(scope))
    .where('bt_currency', 'is not', null);
  if (filters.kinds !== undefined) {
    // A type no kind maps to matches nothing.
    query =
      filters.kinds.length > 0 ? query.where('kind', 'in', filters.kinds) : query.where(sql<boolean>`false`);
  }
  if (filters.currency !== undefined) query = query.where('bt_currency', '=', filters.currency);
  if (filters.source !== undefined) query = query.where('source_id', '=', filters.source);
  return query;
}

export async function findBalanceTransaction(db: Executor, scope: Scope, id: string) {
  return balanceTransactionsQuery(db, scope).where('id', '=', id).executeTakeFirst();
}

/** A merchant's available and pending balances per currency. */
export async function readMerchantBalances(db: Executor, scope: Scope) {
  const result = await sql<{ type: string; currency: string; balance: number }>`
    select a.type, a.currency, coalesce(sum(b.balance), 0)::int8 as balance
    from ledger_accounts a join ledger_balances b on b.account_id = a.id
    where a.merchant_id = ${scope.merchantId} and a.livemode = ${scope.livemode}
      and a.type in ('merchant_available', 'merchant_pending')
    group by a.type, a.currency
    order by a.currency`.execute(db);
  return result.rows;
}
