import type { ColumnType, Generated, Selectable } from 'kysely';

export interface MerchantsTable {
  id: string;
  name: string;
  /** IANA zone in which daily reports cut days. */
  timezone: Generated<string>;
  created_at: ColumnType<Date, Date, never>;
}

export type MerchantRow = Selectable<MerchantsTable>;
