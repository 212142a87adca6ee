import type { ColumnType, Generated, Selectable } from 'kysely';
import type { PaymentIntentStatus } from './payment-intent.states.js';

type Json<T> = ColumnType<T, string, string>;
type CreatedAt = ColumnType<Date, Date, never>;

export type CaptureMethod = 'automatic' | 'automatic_async' | 'manual';

/** Stripe's last_payment_error, as stored (no card data: messages are provider text, masked). */
export interface StoredPaymentError {
  type: 'card_error' | 'api_error' | 'invalid_request_error';
  code: string;
  decline_code?: string | undefined;
  message: string;
  charge?: string | undefined;
}

export interface StoredNextAction {
  type: 'redirect_to_url';
  redirect_to_url: { url: string; return_url: string | null };
}

/**
 * The fraud rules' decision on the latest screened confirmation (the fraud module's FraudOutcome):
 * the action taken, each rule that fired and why, and the rule review holding the payment.
 */
export interface StoredFraudOutcome {
  action: 'allow' | 'block' | 'review' | 'request_three_d_secure';
  rules: { id: string; action: 'block' | 'review' | 'request_three_d_secure'; reason: string }[];
  evaluated: number;
  review?: string | undefined;
}

type FraudOutcomeColumn = ColumnType<StoredFraudOutcome | null, string | undefined, string>;

export interface PaymentIntentsTable {
  id: string;
  merchant_id: string;
  livemode: boolean;
  created_at: CreatedAt;
  amount: number;
  currency: string;
  status: PaymentIntentStatus;
  capture_method: CaptureMethod;
  customer_id: string | null;
  payment_method_id: string | null;
  payment_method_types: Json<string[]>;
  automatic_payment_methods: Json<{ enabled: boolean } | null>;
  description: string | null;
  metadata: Json<Record<string, string>>;
  return_url: string | null;
  client_secret: string;
  amount_capturable: Generated<number>;
  amount_received: Generated<number>;
  latest_charge_id: string | null;
  last_payment_error: Json<StoredPaymentError | null>;
  next_action: Json<StoredNextAction | null>;
  canceled_at: Date | null;
  cancellation_reason: string | null;
  extra: Json<Record<string, unknown>>;
  current_attempt_id: string | null;
  fraud_outcome: FraudOutcomeColumn;
  /** The shopper's address as the merchant sent it (`shopper_ip`); never the merchant server's. */
  shopper_ip: ColumnType<string | null, string | null | undefined, string | null>;
}

export type AttemptPhase = 'started' | 'confirming' | 'unknown' | 'settled';
export type AttemptStatus =
  | 'pending'
  | 'requires_action'
  | 'requires_capture'
  | 'succeeded'
  | 'failed'
  | 'canceled';

export interface PaymentAttemptsTable {
  id: string;
  payment_intent_id: string;
  merchant_id: string;
  livemode: boolean;
  provider: string;
  payment_method_id: string | null;
  amount: number;
  currency: string;
  capture_method: CaptureMethod;
  created_at: CreatedAt;
  phase: AttemptPhase;
  pending_operation: 'capture' | 'cancel' | null;
  capture_amount: number | null;
  status: AttemptStatus;
  provider_payment_id: string | null;
  charge_id: string | null;
  return_url: string | null;
  error: Json<StoredPaymentError | null>;
  latency_ms: number | null;
  settled_at: Date | null;
  next_check_at: Date | null;
  /** A fraud rule (or the merchant) asked the provider for 3-D Secure on this attempt. */
  request_three_d_secure: ColumnType<boolean, boolean | undefined, boolean>;
  /** A fraud rule's review: authorized only (manual capture at the provider) until the review is approved. */
  hold_for_review: ColumnType<boolean, boolean | undefined, boolean>;
}

/** What may be displayed about the card a charge used (invariant 6: never the number or CVC). */
export interface ChargeCard {
  brand: string;
  last4: string;
  exp_month: number;
  exp_year: number;
  fingerprint: string | null;
  funding: string;
  country: string | null;
  billing_details: unknown;
  cvc_check: string | null;
}

export interface ChargesTable {
  id: string;
  merchant_id: string;
  livemode: boolean;
  payment_intent_id: string;
  attempt_id: string;
  created_at: CreatedAt;
  amount: number;
  amount_captured: number;
  amount_refunded: Generated<number>;
  amount_lost_in_disputes: Generated<number>;
  currency: string;
  status: 'succeeded' | 'pending' | 'failed';
  captured: boolean;
  paid: boolean;
  provider: string;
  provider_charge_id: string | null;
  customer_id: string | null;
  description: string | null;
  metadata: Json<Record<string, string>>;
  payment_method_id: string | null;
  card: Json<ChargeCard | null>;
  failure_code: string | null;
  failure_message: string | null;
  decline_code: string | null;
  fee: number | null;
  balance_transaction_id: string | null;
  disputed: Generated<boolean>;
  dispute_status: string | null;
  /** The charge's latest review (Stripe's `charge.review`); reviews set it. */
  review_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** The fraud decision of the confirmation that made this charge (Stripe's `outcome.rule`). */
  fraud_outcome: FraudOutcomeColumn;
}

export type RefundStatus = 'pending' | 'requires_action' | 'succeeded' | 'failed' | 'canceled';

export interface RefundsTable {
  id: string;
  merchant_id: string;
  livemode: boolean;
  charge_id: string;
  payment_intent_id: string;
  attempt_id: string;
  created_at: CreatedAt;
  amount: number;
  currency: string;
  status: RefundStatus;
  reason: string | null;
  metadata: Json<Record<string, string>>;
  provider_refund_id: string | null;
  failure_reason: string | null;
  balance_transaction_id: string | null;
  failure_balance_transaction_id: string | null;
  phase: 'started' | 'settled';
  next_check_at: Date | null;
}

export type PaymentIntentRow = Selectable<PaymentIntentsTable>;
export type PaymentAttemptRow = Selectable<PaymentAttemptsTable>;
export type ChargeRow = Selectable<ChargesTable>;
export type RefundRow = Selectable<RefundsTable>;
