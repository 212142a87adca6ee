// Events as Stripe shapes them: { id, object: 'event', type, created, livemode, data: { object,
// previous_attributes }, request: { id, idempotency_key }, api_version, pending_webhooks }.
import { z } from 'zod';
import { unixSeconds } from '../../clock.js';
import { text } from '../../http/params.js';
import type { EventRow } from './events.table.js';

export interface NewEvent {
  type: string;
  /** The object after the change, as the API shows it. */
  object: { id: string } & Record<string, unknown>;
  /** For `*.updated` events: the changed fields' values before the change. */
  previousAttributes?: Record<string, unknown>;
  request?: { id?: string | undefined; idempotencyKey?: string | undefined };
}

export const eventListFilters = {
  type: text(100).optional(),
  types: z.array(text(100)).max(20).optional(),
};

export function toEventObject(row: EventRow) {
  return {
    id: row.id,
    object: 'event' as const,
    api_version: null,
    created: unixSeconds(row.created_at),
    data: row.data,
    livemode: row.livemode,
    pending_webhooks: 0,
    request: { id: row.request_id, idempotency_key: row.idempotency_key },
    type: row.type,
  };
}

export type EventObject = ReturnType<typeof toEventObject>;
