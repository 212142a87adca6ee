// The merchant's view of the ledger: GET /v1/balance and /v1/balance_transactions.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { resourceMissing } from '../../http/errors.js';
import type { Scope } from '../../http/expand.js';
import { type ListParams, listObject, paginate } from '../../http/pagination.js';
import { type BalanceTransactionObject, kindsOfType, toBalance, toBalanceTransaction } from './balance.js';
import {
  balanceTransactionsQuery,
  findBalanceTransaction,
  readMerchantBalances,
} from './balance.repository.js';

export interface BalanceTransactionListParams extends ListParams {
  type?: string | undefined;
  currency?: string | undefined;
  source?: string | undefined;
}

export class BalanceService {
  constructor(private readonly db: Kysely<Database>) {}

  async retrieve(scope: Scope) {
    return toBalance(scope.livemode, await readMerchantBalances(this.db, scope));
  }

  async retrieveTransaction(scope: Scope, id: string): Promise<BalanceTransactionObject> {
    const row = await findBalanceTransaction(this.db, scope, id);
    if (!row) throw resourceMissing('balance transaction', id, 'id');
    return toBalanceTransaction(row);
  }

  /** For expansion (e.g. a charge's `balance_transaction`): null when not visible to the caller. */
  async findTransaction(scope: Scope, id: string): Promise<BalanceTransactionObject | null> {
    const row = await findBalanceTransaction(this.db, scope, id);
    return row ? toBalanceTransaction(row) : null;
  }

  async listTransactions(scope: Scope, params: BalanceTransactionListParams) {
    const query = balanceTransactionsQuery(this.db, scope, {
      kinds: params.type === undefined ? undefined : kindsOfType(params.type),
      currency: params.currency,
      source: params.source,
    });
    const page = await paginate(
      query,
      params,
      async (id) => (await findBalanceTransaction(this.db, scope, id))?.created_at,
    );
    return listObject('/v1/balance_transactions', page.rows.map(toBalanceTransaction), page.hasMore);
  }
}
