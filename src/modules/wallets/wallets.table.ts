import type { ColumnType, Selectable } from 'kysely';

type Json<T> = ColumnType<T, string, string>;

export type WalletStatus = 'open' | 'closed';

export interface WalletsTable {
  id: string;
  merchant_id: string;
  livemode: boolean;
  customer_id: string;
  currency: string;
  status: WalletStatus;
  metadata: Json<Record<string, string>>;
  created_at: ColumnType<Date, Date, never>;
  closed_at: Date | null;
}

export type WalletRow = Selectable<WalletsTable>;
