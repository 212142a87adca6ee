// What refunds take from provider webhooks: refund objects (refund.*, charge.refund.updated) and the
// refunds listed on a refunded charge (charge.refunded). Each is matched to ours by the refund_id the
// connector put in its metadata, or by the provider's refund id, and applied through the settlement,
// which ignores what is not news, so duplicates and out-of-order deliveries change nothing twice.
// Refunds we did not make (the provider's dashboard, another service on the account) are left alone.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Logger } from '../../observability/logger.js';
import type { ProviderEvent, ProviderName } from '../../providers/provider.js';
import type { ProviderEventHandler } from '../webhooks-in/webhooks-in.js';
import type { RefundObservation, RefundSettlement } from './refund-settlement.js';
import { findRefundById, findRefundByProviderId } from './refunds.repository.js';

interface ProviderRefund {
  id: string;
  object: 'refund';
  status?: string | null;
  failure_reason?: string | null;
  metadata?: Record<string, string> | null;
}

function refundsIn(payload: unknown): ProviderRefund[] {
  const object = (payload as { data?: { object?: unknown } } | null)?.data?.object as
    | { object?: string; refunds?: { data?: unknown[] } }
    | undefined;
  if (object?.object === 'refund') return [object as unknown as ProviderRefund];
  if (object?.object === 'charge') {
    return (object.refunds?.data ?? []).filter(
      (item): item is ProviderRefund => (item as { object?: string } | null)?.object === 'refund',
    );
  }
  return [];
}

/** PayPal's refund events carry the refund as `resource`, ours in custom_id; mapped to Stripe's words. */
function paypalRefundsIn(payload: unknown): ProviderRefund[] {
  const resource = (payload as { resource?: { id?: string; status?: string; custom_id?: string } } | null)
    ?.resource;
  if (!resource?.id) return [];
  const status =
    resource.status === 'COMPLETED'
      ? 'succeeded'
      : resource.status === 'FAILED' || resource.status === 'CANCELLED'
        ? 'failed'
        : 'pending';
  return [
    {
      id: resource.id,
      object: 'refund',
      status,
      failure_reason: status === 'failed' ? 'declined' : null,
      metadata: resource.custom_id ? { refund_id: resource.custom_id } : null,
    },
  ];
}

export function observe(refund: ProviderRefund): RefundObservation {
  switch (refund.status) {
    case 'succeeded':
      return { status: 'succeeded', providerRefundId: refund.id };
    case 'failed':
    case 'canceled':
      return { status: 'failed', providerRefundId: refund.id, reason: refund.failure_reason ?? 'unknown' };
    default:
      // pending, requires_action, or a status this code does not know: not final (never a success).
      return { status: 'pending', providerRefundId: refund.id };
  }
}

export function refundEventHandler(
  db: Kysely<Database>,
  settlement: RefundSettlement,
  logger: Logger,
): ProviderEventHandler {
  return {
    types: [
      'charge.refunded',
      'charge.refund.updated',
      'refund.',
      'PAYMENT.CAPTURE.REFUNDED',
      'PAYMENT.REFUND.',
    ],
    async handle(provider: ProviderName, event: ProviderEvent) {
      const refunds = provider === 'paypal' ? paypalRefundsIn(event.payload) : refundsIn(event.payload);
      for (const refund of refunds) {
        const ourId = refund.metadata?.refund_id;
        const ours =
          (ourId ? await findRefundById(db, ourId) : undefined) ??
          (await findRefundByProviderId(db, refund.id));
        if (!ours) continue;
        if (ours.provider_refund_id && ours.provider_refund_id !== refund.id) {
          logger.warn(
            { refund: ours.id, provider_refund: refund.id, event: event.providerEventId },
            'provider refund names our refund but is not the one recorded for it; ignored',
          );
          continue;
        }
        await settlement.apply(ours.id, observe(refund));
      }
    },
  };
}
