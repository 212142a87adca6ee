// SQL of wallets. Every function takes the executor first so the caller decides the transaction, and
// every read is scoped by merchant and mode (invariant 8).
import type { Insertable, Kysely, Transaction, Updateable } from 'kysely';
import type { Database } from '../../db/schema.js';
import { inScope } from '../../db/scope.js';
import type { Scope } from '../../http/expand.js';
import type { WalletRow, WalletsTable } from './wallets.table.js';

type Executor = Kysely<Database> | Transaction<Database>;

export async function insertWallet(db: Executor, row: Insertable<WalletsTable>): Promise<WalletRow> {
  return db.insertInto('wallets').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findWallet(db: Executor, scope: Scope, id: string): Promise<WalletRow | undefined> {
  return db.selectFrom('wallets').selectAll().where('id', '=', id).where(inScope(scope)).executeTakeFirst();
}

export async function lockWallet(trx: Transaction<Database>, scope: Scope, id: string) {
  return trx
    .selectFrom('wallets')
    .selectAll()
    .where('id', '=', id)
    .where(inScope(scope))
    .forUpdate()
    .executeTakeFirst();
}

/** The customer's open wallet in a currency (at most one: the partial unique index). */
export async function findOpenWallet(
  db: Executor,
  scope: Scope,
  customerId: string,
  currency: string,
): Promise<WalletRow | undefined> {
  return db
    .selectFrom('wallets')
    .selectAll()
    .where(inScope(scope))
    .where('customer_id', '=', customerId)
    .where('currency', '=', currency)
    .where('status', '=', 'open')
    .executeTakeFirst();
}

export async function updateWallet(
  db: Executor,
  id: string,
  changes: Updateable<WalletsTable>,
): Promise<WalletRow> {
  return db.updateTable('wallets').set(changes).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

export function walletsQuery(db: Executor, scope: Scope, filters: { customer?: string | undefined }) {
  let query = db.selectFrom('wallets').selectAll().where(inScope(scope));
  if (filters.customer !== undefined) query = query.where('customer_id', '=', filters.customer);
  return query;
}

export async function walletCreatedAt(db: Executor, scope: Scope, id: string) {
  return (await findWallet(db, scope, id))?.created_at;
}

export interface EntryRow {
  id: number;
  amount: number;
  currency: string;
  livemode: boolean;
  created_at: Date;
  transaction_id: string;
  kind: string;
  source_type: string;
  source_id: string;
  description: string | null;
}

/**
 * A page of one ledger account's entries by entry id (the order they applied in: entries of an account
 * that may not go negative are written under its lock), newest first, from `since` on.
 */
export async function accountEntries(
  db: Executor,
  accountId: string,
  page: { since: Date; before?: number | undefined; after?: number | undefined; limit: number },
): Promise<EntryRow[]> {
  let query = db
    .selectFrom('ledger_entries as e')
    .innerJoin('ledger_transactions as t', 't.id', 'e.transaction_id')
    .select([
      'e.id',
      'e.amount',
      'e.currency',
      'e.livemode',
      'e.created_at',
      'e.transaction_id',
      't.kind',
      't.source_type',
      't.source_id',
      't.description',
    ])
    .where('e.account_id', '=', accountId)
    .where('e.created_at', '>=', page.since);
  if (page.before !== undefined) query = query.where('e.id', '<', page.before);
  if (page.after !== undefined) query = query.where('e.id', '>', page.after);
  const ascending = page.after !== undefined;
  const rows = await query
    .orderBy('e.id', ascending ? 'asc' : 'desc')
    .limit(page.limit + 1)
    .execute();
  return rows as EntryRow[];
}
