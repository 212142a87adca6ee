import type { ColumnType, Selectable } from 'kysely';

/** One Stripe-shaped event, written in the same transaction as the change it describes (the outbox). */
export interface EventsTable {
  id: string;
  merchant_id: string;
  livemode: boolean;
  type: string;
  created_at: ColumnType<Date, Date, never>;
  object_id: string;
  data: ColumnType<{ object: unknown; previous_attributes?: unknown }, string, never>;
  request_id: string | null;
  idempotency_key: string | null;
}

export type EventRow = Selectable<EventsTable>;
