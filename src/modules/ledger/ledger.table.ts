import type { ColumnType, Generated, Selectable } from 'kysely';

export type AccountType =
  | 'merchant_available'
  | 'merchant_pending'
  | 'merchant_fees'
  | 'merchant_disputes'
  | 'provider_clearing'
  | 'customer_wallet'
  /** Funds of a wallet reserved by uncaptured payments (moved out of `customer_wallet`, never negative). */
  | 'customer_wallet_hold'
  | 'external'
  | 'losses';

export interface LedgerAccountsTable {
  /** Derived from the natural key (see accountId), so it is known before the row is read. */
  id: string;
  type: AccountType;
  livemode: boolean;
  currency: string;
  /** The owning merchant; null for platform accounts (clearing, external, losses). */
  merchant_id: string | null;
  /** Customer id (wallet, wallet hold) or provider name (clearing); null otherwise. */
  owner_id: string | null;
  may_go_negative: boolean;
  created_at: ColumnType<Date, Date, never>;
}

export interface LedgerTransactionsTable {
  id: string;
  key: string;
  content_hash: string;
  merchant_id: string | null;
  livemode: boolean;
  kind: string;
  source_type: string;
  source_id: string;
  description: string | null;
  created_at: ColumnType<Date, Date, never>;
  bt_currency: string | null;
  bt_net: number | null;
  bt_fee: number | null;
  available_on: Date;
}

export interface LedgerEntriesTable {
  id: Generated<number>;
  transaction_id: string;
  account_id: string;
  merchant_id: string | null;
  livemode: boolean;
  currency: string;
  amount: number;
  created_at: ColumnType<Date, Date, never>;
}

export interface LedgerBalancesTable {
  account_id: string;
  slot: number;
  merchant_id: string | null;
  may_go_negative: boolean;
  balance: number;
  version: number;
}

export interface LedgerAvailabilityTable {
  transaction_id: string;
  merchant_id: string;
  livemode: boolean;
  currency: string;
  amount: number;
  available_on: Date;
  released_transaction_id: string | null;
}

export type LedgerTransactionRow = Selectable<LedgerTransactionsTable>;
export type LedgerAccountRow = Selectable<LedgerAccountsTable>;
