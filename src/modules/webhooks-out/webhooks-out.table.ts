import type { ColumnType, Generated, Selectable } from 'kysely';

type Json<T> = ColumnType<T, string, string>;

export type EndpointStatus = 'enabled' | 'disabled';
export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'dead';
export type AttemptErrorKind = 'timeout' | 'network' | 'unsafe_url';

export interface WebhookEndpointsTable {
  id: string;
  merchant_id: string;
  livemode: boolean;
  url: string;
  enabled_events: Json<string[]>;
  description: string | null;
  metadata: Json<Record<string, string>>;
  status: EndpointStatus;
  disabled_reason: string | null;
  /** AES-256-GCM, see signing.ts; never logged or returned after create/rotate. */
  secret_ciphertext: string;
  previous_secret_ciphertext: string | null;
  previous_secret_expires_at: Date | null;
  /** When the run of failures without a success began; null after any success. */
  failing_since: Date | null;
  created_at: ColumnType<Date, Date, never>;
  updated_at: Date;
  deleted_at: Date | null;
}

export interface WebhookDeliveriesTable {
  /** Also the `webhook-id` header: one per (event, endpoint), kept across retries and replays. */
  id: string;
  event_id: string;
  endpoint_id: string;
  merchant_id: string;
  livemode: boolean;
  status: DeliveryStatus;
  attempts: Generated<number>;
  /** Bumped for every job the delivery gets; a job carries the step it was enqueued for, so stale jobs do nothing. */
  step: Generated<number>;
  /** Attempts made on the retry ladder since the delivery was created or last replayed. */
  rung: Generated<number>;
  next_attempt_at: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  event_created_at: Date;
  created_at: ColumnType<Date, Date, never>;
  updated_at: Date;
  delivered_at: Date | null;
}

export interface WebhookDeliveryAttemptsTable {
  id: Generated<number>;
  delivery_id: string;
  attempted_at: Date;
  status_code: number | null;
  error_kind: AttemptErrorKind | null;
  latency_ms: number;
  response_excerpt: string;
}

export type WebhookEndpointRow = Selectable<WebhookEndpointsTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;
export type WebhookAttemptRow = Selectable<WebhookDeliveryAttemptsTable>;
