import type { ColumnType, Selectable } from 'kysely';

type Json<T> = ColumnType<T, string, string>;
type CreatedAt = ColumnType<Date, Date, never>;

export type FraudAction = 'block' | 'review' | 'request_three_d_secure';
export type BlocklistKind = 'card_fingerprint' | 'email' | 'ip_address';

export interface FraudRulesTable {
  id: string;
  description: string;
  enabled: boolean;
  action: FraudAction;
  thresholds: Json<Record<string, unknown>>;
  updated_at: Date;
  updated_by: string;
}

export interface FraudBlocklistTable {
  id: string;
  kind: BlocklistKind;
  value: string;
  reason: string | null;
  created_at: CreatedAt;
  created_by: string;
}

/** One evaluated confirmation: the history the velocity, geography and card-testing rules count. */
export interface FraudChecksTable {
  id: string;
  attempt_id: string | null;
  payment_intent_id: string;
  merchant_id: string;
  livemode: boolean;
  created_at: CreatedAt;
  card_fingerprint: string | null;
  shopper_ip: string | null;
  customer_id: string | null;
  latitude: number | null;
  longitude: number | null;
  action: 'allow' | FraudAction;
  declined: ColumnType<boolean, boolean | undefined, boolean>;
}

export type FraudRuleRow = Selectable<FraudRulesTable>;
export type FraudBlocklistRow = Selectable<FraudBlocklistTable>;
