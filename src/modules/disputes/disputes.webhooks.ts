// What disputes take from provider webhooks (charge.dispute.*): the dispute is matched to our charge by
// the provider's charge id and applied through the settlement. A dispute can arrive before our own
// record of the charge (the dispute card opens one while the confirmation is still being answered): the
// payment is then settled from the provider first, and if it still cannot be found the handler fails so
// the provider delivers the event again.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { ProviderEvent, ProviderName } from '../../providers/provider.js';
import { findAttemptByProviderId, findChargeByAttempt } from '../payments/payments.repository.js';
import type { PaymentRecovery } from '../payments/recovery.js';
import type { ProviderEventHandler } from '../webhooks-in/webhooks-in.js';
import type { DisputeSettlement, ObservedDispute } from './dispute-settlement.js';
import { findChargeByProviderCharge } from './disputes.repository.js';
import type { DisputeStatus } from './disputes.table.js';

const STATUSES: ReadonlySet<string> = new Set<DisputeStatus>([
  'warning_needs_response',
  'warning_under_review',
  'warning_closed',
  'needs_response',
  'under_review',
  'won',
  'lost',
]);

interface ProviderDispute {
  object?: string;
  id?: string;
  amount?: number;
  currency?: string;
  charge?: string | { id: string } | null;
  status?: string;
  reason?: string | null;
  balance_transactions?: { amount?: number; fee?: number }[];
}

/** The dispute in a webhook payload, or undefined if the payload is not one we can read. */
export function observeDispute(
  payload: unknown,
): (ObservedDispute & { providerChargeId: string }) | undefined {
  const dispute = (payload as { data?: { object?: ProviderDispute } } | null)?.data?.object;
  if (dispute?.object !== 'dispute' || !dispute.id || !dispute.currency) return undefined;
  if (!Number.isSafeInteger(dispute.amount) || (dispute.amount as number) <= 0) return undefined;
  if (!dispute.status || !STATUSES.has(dispute.status)) return undefined;
  const charge = typeof dispute.charge === 'string' ? dispute.charge : dispute.charge?.id;
  if (!charge) return undefined;
  // The fee comes with the withdrawal (a negative balance transaction); reinstatements carry none.
  const fee = (dispute.balance_transactions ?? [])
    .filter((txn) => (txn.amount ?? 0) < 0)
    .reduce((sum, txn) => sum + (Number.isSafeInteger(txn.fee) ? (txn.fee as number) : 0), 0);
  return {
    providerDisputeId: dispute.id,
    providerChargeId: charge,
    amount: dispute.amount as number,
    currency: dispute.currency,
    status: dispute.status as DisputeStatus,
    reason: dispute.reason ?? null,
    fee,
  };
}

export function disputeEventHandler(
  db: Kysely<Database>,
  settlement: DisputeSettlement,
  payments: PaymentRecovery,
): ProviderEventHandler {
  return {
    types: ['charge.dispute.'],
    async handle(provider: ProviderName, event: ProviderEvent) {
      const observed = observeDispute(event.payload);
      if (!observed) return;
      let charge = await findChargeByProviderCharge(db, provider, observed.providerChargeId);
      if (!charge && event.providerPaymentId) {
        const attempt = await findAttemptByProviderId(db, provider, event.providerPaymentId);
        // Not ours (another service on the same provider account).
        if (!attempt) return;
        await payments.settleFromProvider(attempt);
        charge = await findChargeByAttempt(db, attempt.id);
        if (!charge) {
          throw new Error(
            `dispute ${observed.providerDisputeId}: the charge of ${attempt.id} is not recorded yet`,
          );
        }
      }
      if (!charge) return;
      await settlement.apply(charge.id, provider, observed);
    },
  };
}
