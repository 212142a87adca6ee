import type { ColumnType, Selectable } from 'kysely';

type Json<T> = ColumnType<T, string, string>;

export interface BillingAddress {
  city: string | null;
  country: string | null;
  line1: string | null;
  line2: string | null;
  postal_code: string | null;
  state: string | null;
}

export interface BillingDetails {
  address: BillingAddress;
  email: string | null;
  name: string | null;
  phone: string | null;
}

/** What PayPal tells us of the payer once they approve; null before. */
export interface PayPalDetails {
  payer_email: string | null;
  payer_id: string | null;
  country: string | null;
}

export type PaymentMethodType = 'card' | 'paypal';

/**
 * Display data only: the full number and CVC are in the vault tables as ciphertext. Card columns are
 * null exactly for non-card types (a database check holds card rows complete).
 */
export interface PaymentMethodsTable {
  id: string;
  merchant_id: string;
  livemode: boolean;
  type: PaymentMethodType;
  created_at: ColumnType<Date, Date, never>;
  customer_id: string | null;
  detached_at: Date | null;
  billing_details: Json<BillingDetails>;
  metadata: Json<Record<string, string>>;
  allow_redisplay: string;
  card_brand: string | null;
  card_last4: string | null;
  card_exp_month: number | null;
  card_exp_year: number | null;
  card_fingerprint: string | null;
  /** Which fingerprint key produced card_fingerprint (the key is versioned). */
  card_fingerprint_key: string | null;
  card_funding: string | null;
  card_country: string | null;
  card_cvc_check: string | null;
  card_address_line1_check: string | null;
  card_address_postal_code_check: string | null;
  paypal: ColumnType<PayPalDetails | null, string | null | undefined, string | null>;
}

export type PaymentMethodRow = Selectable<PaymentMethodsTable>;

/** A card row: every card column is set (the database's payment_methods_card_complete check). */
export type CardPaymentMethodRow = PaymentMethodRow & {
  type: 'card';
  card_brand: string;
  card_last4: string;
  card_exp_month: number;
  card_exp_year: number;
  card_fingerprint: string;
  card_fingerprint_key: string;
  card_funding: string;
};

export function isCardRow(row: PaymentMethodRow): row is CardPaymentMethodRow {
  return row.type === 'card';
}
