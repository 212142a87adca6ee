// Operator-side shapes: filters (zod), the delivery object with its attempt log, replay selectors and
// the sample objects `trigger` records.
import { z } from 'zod';
import { unixSeconds } from '../../clock.js';
import { text } from '../../http/params.js';
import { EVENT_TYPES } from '../events/event-types.js';
import type { WebhookAttemptRow, WebhookDeliveryRow } from './webhooks-out.table.js';

/** An instant given as ISO 8601 or Unix seconds. */
export const instant = () =>
  z.union([z.number(), z.string()]).transform((value, ctx) => {
    const date =
      typeof value === 'number' || /^\d{1,12}$/.test(value)
        ? new Date(Number(value) * 1000)
        : new Date(Date.parse(value));
    if (Number.isNaN(date.getTime())) {
      ctx.addIssue({
        code: 'custom',
        message: `must be an ISO 8601 time or Unix seconds (got ${JSON.stringify(value)})`,
      });
      return z.NEVER;
    }
    return date;
  });

export const deliveryStatus = z.enum(['pending', 'succeeded', 'failed', 'dead']);

export const deliveryListFilters = {
  endpoint: text(255).optional(),
  event: text(255).optional(),
  status: deliveryStatus.optional(),
  from: instant().optional(),
  to: instant().optional(),
};

export const endpointListFilters = {
  merchant: text(255).optional(),
  status: z.enum(['enabled', 'disabled']).optional(),
};

/** Exactly one of: an event; an endpoint's failed or dead deliveries; a time range (optionally one endpoint). */
export const replayFields = {
  event: text(255).optional(),
  endpoint: text(255).optional(),
  status: z.enum(['failed', 'dead']).optional(),
  from: instant().optional(),
  to: instant().optional(),
};

export type ReplayInput = z.output<z.ZodObject<typeof replayFields>>;

export const triggerFields = {
  type: z.enum(EVENT_TYPES),
  endpoint: text(255).optional(),
  merchant: text(255).optional(),
};

const seconds = (date: Date | null) => (date ? unixSeconds(date) : null);

export function toDeliveryObject(row: WebhookDeliveryRow, attempts?: WebhookAttemptRow[]) {
  return {
    id: row.id,
    object: 'webhook_delivery' as const,
    /** The `webhook-id` header every attempt and replay of this delivery carries. */
    webhook_id: row.id,
    event: row.event_id,
    endpoint: row.endpoint_id,
    merchant: row.merchant_id,
    livemode: row.livemode,
    status: row.status,
    attempts: row.attempts,
    next_attempt_at: seconds(row.next_attempt_at),
    last_status_code: row.last_status_code,
    last_error: row.last_error,
    created: unixSeconds(row.created_at),
    delivered_at: seconds(row.delivered_at),
    ...(attempts
      ? {
          attempt_log: attempts.map((attempt) => ({
            at: unixSeconds(attempt.attempted_at),
            at_ms: attempt.attempted_at.getTime(),
            status_code: attempt.status_code,
            error: attempt.error_kind,
            latency_ms: attempt.latency_ms,
            response_excerpt: attempt.response_excerpt,
          })),
        }
      : {}),
  };
}

const OBJECT_PREFIX: Record<string, [string, string]> = {
  customer: ['customer', 'cus'],
  payment_method: ['payment_method', 'pm'],
  payment_intent: ['payment_intent', 'pi'],
  charge: ['charge', 'ch'],
  refund: ['refund', 're'],
  webhook_endpoint: ['webhook_endpoint', 'we'],
  webhook_delivery: ['webhook_delivery', 'msg'],
};

/** A recognisable sample object for a triggered event: `sample: true` and metadata say so. */
export function sampleObject(type: string, livemode: boolean, suffix: string) {
  const resource = type.startsWith('charge.dispute.') ? 'dispute' : (type.split('.')[0] as string);
  const [object, prefix] = OBJECT_PREFIX[resource] ?? ['dispute', 'dp'];
  return {
    id: `${prefix}_sample_${suffix}`,
    object,
    livemode,
    sample: true,
    metadata: { sample: 'true', triggered_by: 'webhooks trigger' },
  };
}
