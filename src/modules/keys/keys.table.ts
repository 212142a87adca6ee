import type { ColumnType, Selectable } from 'kysely';

export type KeyKind = 'secret' | 'restricted' | 'publishable';

export interface ApiKeysTable {
  id: string;
  merchant_id: string;
  livemode: boolean;
  kind: KeyKind;
  /** SHA-256 of the whole key; the key itself is shown once and never stored. */
  secret_hash: string;
  /** e.g. `sk_test_` and the last four characters, enough to recognise a key in a list. */
  prefix: string;
  last4: string;
  name: string | null;
  /** Restricted keys only: the scopes they may use. */
  scopes: ColumnType<string[] | null, string | null, string | null>;
  created_at: ColumnType<Date, Date, never>;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  /** The key a rotation issued in its place. */
  replaced_by: ColumnType<string | null, string | null | undefined, string | null>;
}

export type ApiKeyRow = Selectable<ApiKeysTable>;
