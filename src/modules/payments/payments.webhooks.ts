// What payments take from provider webhooks: any event about a payment intent or its charge settles
// the attempt from the provider's own record (a GET), unless the attempt's outcome is already final.
// A provider often sends its event before its answer to our own confirmation arrives: while that
// request is still in flight the handler waits briefly for it rather than reading the provider and
// settling the same attempt twice over (the settlement is idempotent, but the work is not free).
import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.js';
import { Batcher } from '../../db/batcher.js';
import type { Database } from '../../db/schema.js';
import type { ProviderEvent, ProviderName } from '../../providers/provider.js';
import type { ProviderEventHandler } from '../webhooks-in/webhooks-in.js';
import { findAttempt, findAttemptsByProviderIds } from './payments.repository.js';
import type { PaymentAttemptRow } from './payments.table.js';
import { IN_FLIGHT_MS, isUnsettled, type PaymentRecovery } from './recovery.js';

const FINAL = new Set(['succeeded', 'failed', 'canceled']);
const WAIT_STEP_MS = 50;
const WAIT_MAX_MS = 2_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function inFlight(attempt: PaymentAttemptRow, clock: Clock): boolean {
  const young = clock.now().getTime() - attempt.created_at.getTime() < IN_FLIGHT_MS;
  return young && (attempt.phase === 'confirming' || attempt.pending_operation !== null);
}

export function paymentEventHandler(
  db: Kysely<Database>,
  clock: Clock,
  recovery: PaymentRecovery,
): ProviderEventHandler {
  // Events processed at the same moment (a claimed batch of inbox jobs) look their attempts up in one read.
  const lookups = new Batcher(
    (keys: { provider: string; providerPaymentId: string }[]) => findAttemptsByProviderIds(db, keys),
    { maxBatch: 100, concurrency: 4 },
  );
  return {
    types: [
      // Stripe
      'payment_intent.',
      'charge.succeeded',
      'charge.failed',
      'charge.captured',
      'charge.expired',
      // PayPal: an approval to complete, a capture or authorization decided
      'CHECKOUT.ORDER.APPROVED',
      'CHECKOUT.ORDER.COMPLETED',
      'PAYMENT.CAPTURE.COMPLETED',
      'PAYMENT.CAPTURE.DENIED',
      'PAYMENT.CAPTURE.PENDING',
      'PAYMENT.AUTHORIZATION.CREATED',
      'PAYMENT.AUTHORIZATION.VOIDED',
    ],
    async handle(provider: ProviderName, event: ProviderEvent) {
      if (!event.providerPaymentId) return;
      let attempt = await lookups.submit({ provider, providerPaymentId: event.providerPaymentId });
      // Not ours (another service on the same account) or not yet saved: the settlement job covers the latter.
      if (!attempt) return;
      for (let waited = 0; inFlight(attempt, clock) && waited < WAIT_MAX_MS; waited += WAIT_STEP_MS) {
        await sleep(WAIT_STEP_MS);
        attempt = (await findAttempt(db, attempt.id)) as PaymentAttemptRow;
      }
      if (!isUnsettled(attempt) && FINAL.has(attempt.status)) return;
      await recovery.settleFromProvider(attempt);
    },
  };
}
