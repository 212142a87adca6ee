import type { ColumnType, Generated, Selectable } from 'kysely';
import type { ProviderName } from '../../providers/provider.js';

export type InboxStatus = 'pending' | 'processed' | 'ignored' | 'failed' | 'dead';

/** One verified provider event, stored once per (provider, provider_event_id). */
export interface WebhookInboxTable {
  id: string;
  provider: ProviderName;
  provider_event_id: string;
  type: string;
  /** The provider object the event is about (payment intent, order): processing is serialised on it. */
  subject: string;
  payload: ColumnType<unknown, string, string>;
  occurred_at: Date;
  received_at: ColumnType<Date, Date, never>;
  status: Generated<InboxStatus>;
  attempts: Generated<number>;
  last_error: string | null;
  processed_at: Date | null;
}

/** A lease on one subject: the holder processes its events while nobody else does. */
export interface WebhookSubjectLocksTable {
  provider: string;
  subject: string;
  holder: string;
  expires_at: Date;
}

export type InboxRow = Selectable<WebhookInboxTable>;
