import type { ColumnType, Selectable } from 'kysely';

type CreatedAt = ColumnType<Date, Date, never>;

/** Why a review opened: Stripe's `rule` and `manual`, and runbook 002's rollback marking. */
export type OpenedReason = 'rule' | 'manual' | 'system_rollback';

export type ClosedReason =
  | 'approved'
  | 'refunded'
  | 'refunded_as_fraud'
  | 'disputed'
  | 'redacted'
  | 'canceled'
  | 'payment_never_settled'
  | 'acknowledged';

export interface ReviewsTable {
  id: string;
  merchant_id: string;
  livemode: boolean;
  charge_id: string;
  payment_intent_id: string;
  created_at: CreatedAt;
  open: ColumnType<boolean, boolean | undefined, boolean>;
  opened_reason: OpenedReason;
  /** Stripe's `reason`: why it is open (the opened reason) or, once closed, the closed reason. */
  reason: string;
  closed_reason: ClosedReason | null;
  closed_at: Date | null;
}

export type ReviewRow = Selectable<ReviewsTable>;
