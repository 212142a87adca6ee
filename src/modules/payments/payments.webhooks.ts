// What payments take from provider webhooks: any event about a payment intent or its charge settles
// the attempt from the provider's own record (a GET), unless the attempt's outcome is already final.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { ProviderEvent, ProviderName } from '../../providers/provider.js';
import type { ProviderEventHandler } from '../webhooks-in/webhooks-in.js';
import { findAttemptByProviderId } from './payments.repository.js';
import { isUnsettled, type PaymentRecovery } from './recovery.js';

const FINAL = new Set(['succeeded', 'failed', 'canceled']);

export function paymentEventHandler(db: Kysely<Database>, recovery: PaymentRecovery): ProviderEventHandler {
  return {
    types: ['payment_intent.', 'charge.succeeded', 'charge.failed', 'charge.captured', 'charge.expired'],
    async handle(provider: ProviderName, event: ProviderEvent) {
      if (!event.providerPaymentId) return;
      const attempt = await findAttemptByProviderId(db, provider, event.providerPaymentId);
      // Not ours (another service on the same account) or not yet saved: the settlement job covers the latter.
      if (!attempt) return;
      if (!isUnsettled(attempt) && FINAL.has(attempt.status)) return;
      await recovery.settleFromProvider(attempt);
    },
  };
}
