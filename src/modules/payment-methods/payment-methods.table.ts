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

/** Display data only: the full number and CVC are in the vault tables as ciphertext. */
export interface PaymentMethodsTable {
  id: string;
  merchant_id: string;
  livemode: boolean;
  type: 'card';
  created_at: ColumnType<Date, Date, never>;
  customer_id: string | null;
  detached_at: Date | null;
  billing_details: Json<BillingDetails>;
  metadata: Json<Record<string, string>>;
  allow_redisplay: string;
  card_brand: string;
  card_last4: string;
  card_exp_month: number;
  card_exp_year: number;
  card_fingerprint: string;
  /** Which fingerprint key produced card_fingerprint (the key is versioned). */
  card_fingerprint_key: string;
  card_funding: string;
  card_country: string | null;
  card_cvc_check: string | null;
  card_address_line1_check: string | null;
  card_address_postal_code_check: string | null;
}

export type PaymentMethodRow = Selectable<PaymentMethodsTable>;
