import type { ColumnType, Selectable } from 'kysely';

/** Base64 text rather than bytea: PGlite and node-postgres return bytea as different types. */
interface EnvelopeColumns {
  payment_method_id: string;
  merchant_id: string;
  livemode: boolean;
  kek_id: string;
  wrapped_key: string;
  ciphertext: string;
  created_at: ColumnType<Date, Date, never>;
}

export interface VaultCardsTable extends EnvelopeColumns {
  rewrapped_at: Date | null;
}

export interface VaultCvcsTable extends EnvelopeColumns {
  expires_at: Date;
}

export interface VaultKeysTable {
  id: string;
  check_value: string;
  first_seen_at: Date;
}

export type VaultCardRow = Selectable<VaultCardsTable>;
export type VaultCvcRow = Selectable<VaultCvcsTable>;
export type EnvelopeRow = Selectable<EnvelopeColumns>;
