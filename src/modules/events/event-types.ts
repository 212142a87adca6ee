// Every event type the service records: the one list webhook endpoints' `enabled_events` are checked
// against. A module that records a new type adds it here.
export const EVENT_TYPES = [
  'customer.created',
  'customer.updated',
  'customer.deleted',
  'payment_method.attached',
  'payment_method.detached',
  'payment_method.updated',
  'payment_intent.created',
  'payment_intent.updated',
  'payment_intent.succeeded',
  'payment_intent.amount_capturable_updated',
  'payment_intent.requires_action',
  'payment_intent.payment_failed',
  'payment_intent.canceled',
  'charge.succeeded',
  'charge.failed',
  'charge.captured',
  'charge.expired',
  'charge.refunded',
  'charge.refund.updated',
  'charge.dispute.created',
  'charge.dispute.closed',
  'refund.created',
  'refund.updated',
  'refund.failed',
  'review.opened',
  'review.closed',
  'webhook_endpoint.disabled',
  'webhook_delivery.dead',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

const known = new Set<string>(EVENT_TYPES);

export const isEventType = (type: string): type is EventType => known.has(type);
