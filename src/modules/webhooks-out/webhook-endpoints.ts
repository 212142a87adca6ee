// The webhook endpoint resource: create/update parameters (zod), `enabled_events` matching, and the
// Stripe-shaped object. The secret is part of the object only in the create and rotate responses.
import { z } from 'zod';
import { unixSeconds } from '../../clock.js';
import { boolean, clearableText, integer, metadata, text } from '../../http/params.js';
import { EVENT_TYPES, isEventType } from '../events/event-types.js';
import type { WebhookEndpointRow } from './webhooks-out.table.js';

/** The longest (and default) overlap during which a rotated-out secret still signs deliveries. */
export const MAX_ROTATION_OVERLAP_SECONDS = 86_400;

const prefixes = new Set(
  EVENT_TYPES.flatMap((type) =>
    type
      .split('.')
      .slice(0, -1)
      .map((_, i, parts) => parts.slice(0, i + 1).join('.')),
  ),
);

/** An exact type the service records, `*`, or a prefix wildcard such as `payment_intent.*`. */
export function isValidEventFilter(filter: string): boolean {
  if (filter === '*') return true;
  if (filter.endsWith('.*')) return prefixes.has(filter.slice(0, -2));
  return isEventType(filter);
}

export function matchesEnabledEvents(enabled: readonly string[], type: string): boolean {
  for (const filter of enabled) {
    if (filter === '*' || filter === type) return true;
    if (filter.endsWith('.*') && type.startsWith(filter.slice(0, -1))) return true;
  }
  return false;
}

const enabledEvents = z
  .union([
    z.array(text(100)).min(1, { message: 'must list at least one event type' }).max(100),
    text(100).transform((v) => [v]),
  ])
  .superRefine((filters, ctx) => {
    for (const filter of filters) {
      if (!isValidEventFilter(filter))
        ctx.addIssue({
          code: 'custom',
          message: `'${filter}' is not an event type this service sends (use an exact type, '*' or a prefix such as 'payment_intent.*')`,
        });
    }
  });

export const endpointCreateFields = {
  url: text(2048),
  enabled_events: enabledEvents,
  description: clearableText(5000).optional(),
  metadata: metadata().optional(),
  api_version: text(50).optional(),
  connect: boolean().optional(),
};

export const endpointUpdateFields = {
  url: text(2048).optional(),
  enabled_events: enabledEvents.optional(),
  description: clearableText(5000).optional(),
  metadata: metadata().optional(),
  disabled: boolean().optional(),
};

export const rotateFields = {
  expires_in_seconds: integer()
    .refine((n) => n >= 0 && n <= MAX_ROTATION_OVERLAP_SECONDS, {
      message: `must be between 0 and ${MAX_ROTATION_OVERLAP_SECONDS}`,
    })
    .optional(),
};

export type EndpointCreateInput = z.output<z.ZodObject<typeof endpointCreateFields>>;
export type EndpointUpdateInput = z.output<z.ZodObject<typeof endpointUpdateFields>>;

export function toEndpointObject(row: WebhookEndpointRow) {
  return {
    id: row.id,
    object: 'webhook_endpoint' as const,
    api_version: null,
    application: null,
    created: unixSeconds(row.created_at),
    description: row.description,
    enabled_events: row.enabled_events,
    livemode: row.livemode,
    metadata: row.metadata,
    status: row.status,
    url: row.url,
  };
}

export type EndpointObject = ReturnType<typeof toEndpointObject>;

export interface DeletedEndpoint {
  id: string;
  object: 'webhook_endpoint';
  deleted: true;
}
