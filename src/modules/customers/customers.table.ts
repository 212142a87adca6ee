import type { ColumnType, Selectable } from 'kysely';

type Json<T> = ColumnType<T, string, string>;

export interface Address {
  city: string | null;
  country: string | null;
  line1: string | null;
  line2: string | null;
  postal_code: string | null;
  state: string | null;
}

export interface Shipping {
  address: Address;
  name: string;
  phone: string | null;
}

export interface CustomersTable {
  id: string;
  merchant_id: string;
  livemode: boolean;
  created_at: ColumnType<Date, Date, never>;
  email: string | null;
  name: string | null;
  phone: string | null;
  description: string | null;
  metadata: Json<Record<string, string>>;
  address: Json<Address | null>;
  shipping: Json<Shipping | null>;
  preferred_locales: Json<string[]>;
  invoice_prefix: string;
  tax_exempt: string;
  deleted_at: Date | null;
  /** Set by a privacy erasure: personal fields cleared, the customer deleted; financial records keep its id. */
  erased_at: Date | null;
}

export type CustomerRow = Selectable<CustomersTable>;
