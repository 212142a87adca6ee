import type { ColumnType, Selectable } from 'kysely';

type CreatedAt = ColumnType<Date, Date, never>;

export type DisputeStatus =
  | 'warning_needs_response'
  | 'warning_under_review'
  | 'warning_closed'
  | 'needs_response'
  | 'under_review'
  | 'won'
  | 'lost';

export interface DisputesTable {
  id: string;
  merchant_id: string;
  livemode: boolean;
  charge_id: string;
  payment_intent_id: string;
  attempt_id: string;
  provider: string;
  provider_dispute_id: string;
  created_at: CreatedAt;
  amount: number;
  currency: string;
  fee: number;
  status: DisputeStatus;
  reason: string | null;
  balance_transaction_id: string | null;
  closed_at: Date | null;
}

export type DisputeRow = Selectable<DisputesTable>;
