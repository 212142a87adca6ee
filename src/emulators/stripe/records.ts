// Owns the emulator's internal records. Records are immutable: every change stores a new version, so
// an event can hold the exact version it describes without copying it, and renderers build Stripe's
// full wire objects from these compact records only when something is sent.
import type { StripeErrorBody } from './errors.js';
import type { Metadata } from './params.js';

export type CardScenario =
  | 'succeed'
  | 'decline'
  | 'insufficient_funds'
  | 'three_ds'
  | 'processing_error'
  | 'dispute'
  /** Stripe's 4000000000001976: an inquiry (a retrieval request) opens after capture; no money moves. */
  | 'inquiry'
  | 'expired_card'
  | 'incorrect_cvc'
  | 'lost_card'
  | 'stolen_card'
  | 'fraudulent'
  /** Stripe's 4000000000005126: the charge succeeds; a refund of it succeeds, then fails a moment later. */
  | 'refund_fail'
  | 'live_card';

export interface CardDetails {
  brand: string;
  last4: string;
  exp_month: number;
  exp_year: number;
  fingerprint: string;
  funding: string;
  country: string;
  cvc_check: 'pass' | 'unchecked';
}

interface Base {
  id: string;
  /** The account the API key belongs to; never rendered, used to keep each key's objects apart. */
  account: string;
  created: number;
}

export interface PaymentMethodRecord extends Base {
  object: 'payment_method';
  card: CardDetails;
  scenario: CardScenario;
  billing_details: unknown;
  customer: string | null;
  metadata: Metadata;
}

export type PaymentIntentStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'requires_capture'
  | 'succeeded'
  | 'canceled';

export type CaptureMethod = 'automatic' | 'automatic_async' | 'manual';

export interface PaymentIntentRecord extends Base {
  object: 'payment_intent';
  amount: number;
  currency: string;
  status: PaymentIntentStatus;
  capture_method: CaptureMethod;
  confirmation_method: 'automatic' | 'manual';
  client_secret: string;
  customer: string | null;
  description: string | null;
  metadata: Metadata;
  payment_method: string | null;
  payment_method_types: string[];
  automatic_payment_methods: { enabled: boolean } | null;
  latest_charge: string | null;
  amount_capturable: number;
  amount_received: number;
  canceled_at: number | null;
  cancellation_reason: string | null;
  last_payment_error: StripeErrorBody | null;
  next_action: unknown;
  return_url: string | null;
  /** Stored as given: accepted parameters the emulator does not act on. */
  extra: Record<string, unknown>;
  three_ds_token: string | null;
  three_ds_passed: boolean;
}

export interface ChargeRecord extends Base {
  object: 'charge';
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  captured: boolean;
  currency: string;
  customer: string | null;
  description: string | null;
  metadata: Metadata;
  payment_intent: string;
  payment_method: string;
  card: CardDetails;
  billing_details: unknown;
  status: 'succeeded' | 'failed' | 'pending';
  failure_code: string | null;
  failure_message: string | null;
  outcome: Record<string, unknown>;
  balance_transaction: string | null;
  dispute: string | null;
  refund_ids: string[];
  three_d_secure: boolean;
  receipt_email: string | null;
}

export interface RefundRecord extends Base {
  object: 'refund';
  amount: number;
  currency: string;
  charge: string;
  payment_intent: string;
  payment_method: string;
  reason: string | null;
  status: 'succeeded' | 'pending' | 'failed' | 'canceled';
  metadata: Metadata;
  balance_transaction: string | null;
  failure_reason?: string | null;
  failure_balance_transaction?: string | null;
  /** Emulator clock second from which a refund of a refund_fail card fails (internal). */
  fails_at?: number | null;
}

export type DisputeStatus =
  | 'warning_needs_response'
  | 'warning_under_review'
  | 'warning_closed'
  | 'needs_response'
  | 'under_review'
  | 'won'
  | 'lost';

export interface DisputeRecord extends Base {
  object: 'dispute';
  amount: number;
  currency: string;
  charge: string;
  payment_intent: string;
  reason: string;
  status: DisputeStatus;
  case_type: 'chargeback' | 'inquiry';
  evidence: Record<string, string | null>;
  due_by: number;
  submission_count: number;
  balance_transaction_ids: string[];
  metadata: Metadata;
  brand: string;
}

export interface BalanceTransactionRecord extends Base {
  object: 'balance_transaction';
  amount: number;
  currency: string;
  fee: number;
  net: number;
  type: 'charge' | 'payment' | 'refund' | 'refund_failure' | 'adjustment';
  reporting_category: 'charge' | 'refund' | 'refund_failure' | 'dispute' | 'dispute_reversal';
  source: string;
  description: string | null;
  available_on: number;
}

/** An uploaded file: what Stripe shows of it. The bytes are not kept; their digest names the upload. */
export interface FileRecord extends Base {
  object: 'file';
  purpose: string;
  filename: string;
  size: number;
  type: string;
  sha256: string;
}

export interface EventRecord extends Base {
  object: 'event';
  type: string;
  data_object: StoredRecord;
  previous_attributes: Record<string, unknown> | null;
  request: { id: string | null; idempotency_key: string | null };
  api_version: string;
}

export type StoredRecord =
  | PaymentMethodRecord
  | PaymentIntentRecord
  | ChargeRecord
  | RefundRecord
  | DisputeRecord
  | BalanceTransactionRecord
  | FileRecord
  | EventRecord;

export type ObjectType = StoredRecord['object'];

export type RecordOf<T extends ObjectType> = Extract<StoredRecord, { object: T }>;

export const OBJECT_TYPES: readonly ObjectType[] = [
  'payment_method',
  'payment_intent',
  'charge',
  'refund',
  'dispute',
  'balance_transaction',
  'file',
  'event',
];

export const ID_PREFIX: Record<ObjectType, string> = {
  payment_method: 'pm',
  payment_intent: 'pi',
  charge: 'ch',
  refund: 're',
  dispute: 'dp',
  balance_transaction: 'txn',
  file: 'file',
  event: 'evt',
};

const TYPE_BY_PREFIX = new Map(
  Object.entries(ID_PREFIX).map(([type, prefix]) => [prefix, type as ObjectType]),
);

export function typeOfId(id: string): ObjectType | undefined {
  const underscore = id.indexOf('_');
  return underscore > 0 ? TYPE_BY_PREFIX.get(id.slice(0, underscore)) : undefined;
}
