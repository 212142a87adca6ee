import type { ColumnType, Selectable } from 'kysely';

type Json<T> = ColumnType<T, string, string>;
/** bigint columns: node-postgres and PGlite both return numbers here (the parsers are set in db/connect). */
type Amount = ColumnType<number | null, number | null, number | null>;

export interface RoutingRulesTable {
  id: string;
  /** null: every merchant. */
  merchant_id: string | null;
  /** null: both modes. */
  livemode: boolean | null;
  payment_method_type: 'card' | 'paypal' | 'wallet';
  currency: string | null;
  min_amount: Amount;
  max_amount: Amount;
  providers: Json<string[]>;
  priority: number;
  created_at: ColumnType<Date, Date, never>;
  updated_at: Date;
}

export type RoutingRuleRow = Selectable<RoutingRulesTable>;
