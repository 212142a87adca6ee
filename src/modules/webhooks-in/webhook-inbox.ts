// The inbox's API shapes: list filters, the replay selection, and the object operators see.
import { z } from 'zod';
import { unixSeconds } from '../../clock.js';
import { boundedInteger, integer, text } from '../../http/params.js';
import type { InboxRow } from './webhook-inbox.table.js';

export const INBOX_STATUSES = ['pending', 'processed', 'ignored', 'failed', 'dead'] as const;

const seconds = integer('a Unix timestamp in seconds').refine((n) => n >= 0, {
  message: 'must be a Unix timestamp in seconds',
});

export const inboxListInput = {
  provider: z.enum(['stripe', 'paypal']).optional(),
  status: z.enum(INBOX_STATUSES).optional(),
  type: text(200).optional(),
  from: seconds.optional(),
  to: seconds.optional(),
  limit: boundedInteger(1, 100).optional(),
  starting_after: text(64).optional(),
};

export const inboxReplayInput = {
  id: text(64).optional(),
  status: z.enum(['dead', 'failed']).optional(),
  from: seconds.optional(),
  to: seconds.optional(),
};

export const toDate = (value: number | undefined) =>
  value === undefined ? undefined : new Date(value * 1000);

export function toInboxObject(row: InboxRow, withPayload = false) {
  return {
    id: row.id,
    object: 'inbound_webhook' as const,
    provider: row.provider,
    provider_event_id: row.provider_event_id,
    type: row.type,
    subject: row.subject,
    status: row.status,
    attempts: row.attempts,
    occurred_at: unixSeconds(row.occurred_at),
    received_at: unixSeconds(row.received_at),
    processed_at: row.processed_at ? unixSeconds(row.processed_at) : null,
    ...(withPayload ? { last_error: row.last_error, payload: row.payload } : {}),
  };
}
