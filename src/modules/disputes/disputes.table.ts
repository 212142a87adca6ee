import type { ColumnType, Selectable } from 'kysely';
import type { ProviderDisputeStatus } from '../../providers/provider.js';

type Json<T> = ColumnType<T, string | undefined, string>;

type CreatedAt = ColumnType<Date, Date, never>;

export type DisputeStatus = ProviderDisputeStatus;

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
  due_by: Date | null;
  /** Text evidence by Stripe's field names, as the merchant last saved it. */
  evidence: Json<Record<string, string>>;
  evidence_submission_count: ColumnType<number, number | undefined, number>;
  metadata: Json<Record<string, string>>;
  wallet_covered: number | null;
  case_type: ColumnType<
    'inquiry' | 'chargeback',
    'inquiry' | 'chargeback' | undefined,
    'inquiry' | 'chargeback'
  >;
}

export type DisputeRow = Selectable<DisputesTable>;
