// What disputes take from provider webhooks (Stripe's charge.dispute.*, PayPal's CUSTOMER.DISPUTE.*):
// the dispute is matched to our charge by the provider's charge (capture) id and applied through the
// settlement. A dispute can arrive before our own
// record of the charge (the dispute card opens one while the confirmation is still being answered): the
// payment is then settled from the provider first, and if it still cannot be found the handler fails so
// the provider delivers the event again.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { paypalDisputeOfEvent } from '../../providers/paypal/paypal.disputes.js';
import {
  handlesDisputes,
  type ProviderDispute,
  type ProviderEvent,
  type ProviderName,
} from '../../providers/provider.js';
import type { ProviderRegistry } from '../../providers/registry.js';
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
  providers: Pick<ProviderRegistry, 'get'>,
): ProviderEventHandler {
  /** The provider payment a dispute's charge belongs to: from the event, or a GET of the charge. */
  async function paymentOf(provider: ProviderName, event: ProviderEvent, providerChargeId: string) {
    if (event.providerPaymentId) return event.providerPaymentId;
    const connector = providers.get(provider);
    return connector && handlesDisputes(connector) ? connector.paymentOfCharge(providerChargeId) : undefined;
  }

  return {
    types: ['charge.dispute.', 'CUSTOMER.DISPUTE.'],
    async handle(provider: ProviderName, event: ProviderEvent) {
      const observed = observeDispute(provider, event.payload);
      if (!observed) return;
      let charge = await findChargeByProviderCharge(db, provider, observed.providerChargeId);
      if (!charge) {
        // A charge we have not recorded yet (the dispute card's dispute can beat our confirmation's
        // answer), or one that is not ours: the provider says which payment it belongs to.
        const paymentId = await paymentOf(provider, event, observed.providerChargeId);
        if (!paymentId) return;
        const attempt = await findAttemptByProviderId(db, provider, paymentId);
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
      const { providerChargeId: _charge, ...dispute } = observed;
      await settlement.apply(charge.id, provider, dispute);
    },
  };
}
