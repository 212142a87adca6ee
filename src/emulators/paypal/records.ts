// Owns the shapes the PayPal emulator stores. Records are immutable versions (the store replaces a
// record on change), hold money as integer minor units and keep only what PayPal would keep of a card:
// brand, last digits, expiry and the sandbox scenario, never the number or the security code.
import type { Money } from './money.js';

export type CardScenario =
  | 'succeed'
  | 'decline'
  | 'insufficient_funds'
  | 'three_ds'
  | 'processing_error'
  | 'dispute'
  /** 4000000000001976: an inquiry opens on capture (stage INQUIRY). */
  | 'inquiry';

export interface CardSource {
  type: 'card';
  brand: string;
  last_digits: string;
  expiry: string;
  name: string | null;
  scenario: CardScenario;
  /** 3-D Secure passed on the approval page. */
  authenticated: boolean;
}

export interface PayPalSource {
  type: 'paypal';
  email_address: string | null;
}

export type PaymentSource = CardSource | PayPalSource;

export interface PurchaseUnit {
  reference_id: string;
  custom_id: string | null;
  invoice_id: string | null;
  description: string | null;
  amount: Money;
}

export type OrderStatus = 'CREATED' | 'PAYER_ACTION_REQUIRED' | 'APPROVED' | 'COMPLETED' | 'VOIDED';

export interface Payer {
  email_address: string;
  payer_id: string;
  name: { given_name: string; surname: string };
}

export interface OrderRecord {
  kind: 'order';
  id: string;
  account: string;
  intent: 'CAPTURE' | 'AUTHORIZE';
  status: OrderStatus;
  purchase_unit: PurchaseUnit;
  source: PaymentSource | null;
  payer: Payer | null;
  return_url: string | null;
  cancel_url: string | null;
  /** The payer cancelled (approval page `?action=fail`): the order can never be approved. */
  payer_cancelled: boolean;
  create_time: string;
  update_time: string;
  capture_ids: string[];
  authorization_ids: string[];
}

export interface ProcessorResponse {
  avs_code: string;
  cvv_code: string;
  response_code: string;
}

export interface CaptureRecord {
  kind: 'capture';
  id: string;
  account: string;
  order_id: string;
  authorization_id: string | null;
  status: 'COMPLETED' | 'DECLINED' | 'PENDING' | 'PARTIALLY_REFUNDED' | 'REFUNDED';
  amount: Money;
  fee: number;
  final_capture: boolean;
  custom_id: string | null;
  invoice_id: string | null;
  processor_response: ProcessorResponse | null;
  refunded: number;
  create_time: string;
  update_time: string;
}

export interface AuthorizationRecord {
  kind: 'authorization';
  id: string;
  account: string;
  order_id: string;
  status: 'CREATED' | 'CAPTURED' | 'PARTIALLY_CAPTURED' | 'VOIDED' | 'DENIED';
  amount: Money;
  captured: number;
  custom_id: string | null;
  invoice_id: string | null;
  processor_response: ProcessorResponse | null;
  create_time: string;
  update_time: string;
  expiration_time: string;
}

export interface RefundRecord {
  kind: 'refund';
  id: string;
  account: string;
  capture_id: string;
  status: 'COMPLETED';
  amount: Money;
  custom_id: string | null;
  invoice_id: string | null;
  note_to_payer: string | null;
  create_time: string;
  update_time: string;
}

export type DisputeStatus = 'WAITING_FOR_SELLER_RESPONSE' | 'UNDER_REVIEW' | 'RESOLVED';

export interface DisputeRecord {
  kind: 'dispute';
  id: string;
  account: string;
  capture_id: string;
  reason: string;
  status: DisputeStatus;
  outcome: 'RESOLVED_BUYER_FAVOUR' | 'RESOLVED_SELLER_FAVOUR' | null;
  amount: Money;
  stage: 'INQUIRY' | 'CHARGEBACK';
  evidence: string[];
  seller_response_due_date: string;
  create_time: string;
  update_time: string;
}

export interface EventRecord {
  kind: 'event';
  id: string;
  account: string;
  event_type: string;
  /** The delivered JSON, kept as text so a replay or a state read shows the exact bytes. */
  body: string;
  create_time: string;
}

export type StoredRecord =
  | OrderRecord
  | CaptureRecord
  | AuthorizationRecord
  | RefundRecord
  | DisputeRecord
  | EventRecord;

export type RecordKind = StoredRecord['kind'];
export type RecordOf<K extends RecordKind> = Extract<StoredRecord, { kind: K }>;
export const RECORD_KINDS: readonly RecordKind[] = [
  'order',
  'capture',
  'authorization',
  'refund',
  'dispute',
  'event',
];
