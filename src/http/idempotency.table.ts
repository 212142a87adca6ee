import type { ColumnType, Selectable } from 'kysely';

export interface IdempotencyKeysTable {
  merchant_id: string;
  livemode: boolean;
  key: string;
  created_at: ColumnType<Date, Date, never>;
  /** `POST /v1/payment_intents/:id/confirm pi_123`: the route and its path parameters. */
  endpoint: string;
  /** SHA-256 of the canonical (validated, key-sorted) parameters. */
  request_hash: string;
  /** The lease of the request executing under this key; null once finished. */
  locked_until: Date | null;
  /** The last atomic phase that committed (Brandur Leach's recovery points). */
  recovery_point: string;
  recovery_data: ColumnType<unknown, string | null, string | null>;
  response_status: number | null;
  response_body: ColumnType<unknown, string | null, string | null>;
  finished_at: Date | null;
}

export type IdempotencyKeyRow = Selectable<IdempotencyKeysTable>;
