// What disputes take from provider webhooks (Stripe's charge.dispute.*, PayPal's CUSTOMER.DISPUTE.*):
// the dispute is matched to our charge by the provider's charge (capture) id and applied through the
// settlement. A dispute can arrive before our own
// record of the charge (the dispute card opens one while the confirmation is still being answered): the
// payment is then settled from the provider first, and if it still cannot be found the handler fails so
// the provider delivers the event again.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { paypalDisputeOfEvent } from '../../providers/paypal/paypal.disputes.js';
import type { ProviderDispute, ProviderEvent, ProviderName } from '../../providers/provider.js';
import { stripeDisputeOfEvent } from '../../providers/stripe/stripe.disputes.js';
import { findAttemptByProviderId, findChargeByAttempt } from '../payments/payments.repository.js';
import type { PaymentRecovery } from '../payments/recovery.js';
import type { ProviderEventHandler } from '../webhooks-in/webhooks-in.js';
import type { DisputeSettlement } from './dispute-settlement.js';
import { findChargeByProviderCharge } from './disputes.repository.js';

/** The dispute in a webhook payload, in the provider's own wire form; undefined if unreadable. */
export function observeDispute(provider: ProviderName, payload: unknown): ProviderDispute | undefined {
  return provider === 'paypal' ? paypalDisputeOfEvent(payload) : stripeDisputeOfEvent(payload);
}

export function disputeEventHandler(
  db: Kysely<Database>,
  settlement: DisputeSettlement,
  payments: PaymentRecovery,
): ProviderEventHandler {
  return {
    types: ['charge.dispute.', 'CUSTOMER.DISPUTE.'],
    async handle(provider: ProviderName, event: ProviderEvent) {
      const observed = observeDispute(provider, event.payload);
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
