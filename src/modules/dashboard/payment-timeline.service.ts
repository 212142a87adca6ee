// A payment's whole story for the dashboard's detail page (issue 10): its attempts, our events about
// it, the provider's events about its provider objects, the deliveries of our events to the merchant's
// endpoints, the ledger postings, the fraud decision, reviews, refunds and disputes, each list oldest
// first. Read-only, across merchants (operators), and every read goes through the owning module's
// repository and object mapping; nothing here writes SQL.
import type { Kysely } from 'kysely';
import { type Clock, unixSeconds } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { renderDispute } from '../disputes/dispute-object.js';
import { disputesQuery } from '../disputes/disputes.repository.js';
import { toEventObject } from '../events/events.js';
import { postingsOfSources } from '../ledger/ledger.repository.js';
import { toAttemptObject } from '../payments/attempts.routes.js';
import { toChargeObject } from '../payments/charges.js';
import { eventsOfObjects } from '../payments/operator-payments.repository.js';
import type { OperatorPaymentsService } from '../payments/operator-payments.service.js';
import { toPaymentIntentObject } from '../payments/payment-intents.js';
import { toRefundObject } from '../refunds/refund-object.js';
import { toReviewObject } from '../reviews/reviews.js';
import { reviewsOfPayment } from '../reviews/reviews.repository.js';
import { toInboxObject } from '../webhooks-in/webhook-inbox.js';
import { inboxRowsAboutSubjects } from '../webhooks-in/webhook-inbox.repository.js';
import { deliveriesOfEvents } from '../webhooks-out/deliveries.repository.js';
import { toDeliveryObject } from '../webhooks-out/webhooks-admin.js';

/** A payment's story is short; a runaway list is cut here rather than sent whole to a browser. */
const MAX_ROWS = 500;

export interface TimelineDeps {
  db: Kysely<Database>;
  clock: Clock;
  payments: OperatorPaymentsService;
}

export class PaymentTimelineService {
  constructor(private readonly deps: TimelineDeps) {}

  async timeline(id: string) {
    const { db, clock, payments } = this.deps;
    const { intent, attempts, charges, refunds, events } = await payments.rowsOf(id);
    const scope = { merchantId: intent.merchant_id, livemode: intent.livemode };
    const [disputeRows, reviewRows] = await Promise.all([
      disputesQuery(db, scope, { paymentIntent: id })
        .orderBy('disputes.created_at')
        .orderBy('disputes.id')
        .execute(),
      reviewsOfPayment(db, id),
    ]);
    // Events about the disputes and reviews too: the payment's, its charges' and refunds' are in `events`.
    const laterEvents = await eventsOfObjects(
      db,
      [...disputeRows.map((d) => d.id), ...reviewRows.map((r) => r.id)],
      MAX_ROWS,
    );
    const allEvents = [...events, ...laterEvents].sort(
      (a, b) => a.created_at.getTime() - b.created_at.getTime() || a.id.localeCompare(b.id),
    );
    const providerOf = new Map(attempts.map((a) => [a.id, a.provider]));
    const subjects = [
      ...attempts.map((a) => ({ provider: a.provider, subject: a.provider_payment_id })),
      ...charges.map((c) => ({ provider: c.provider, subject: c.provider_charge_id })),
      ...refunds.map((r) => ({
        provider: providerOf.get(r.attempt_id) ?? '',
        subject: r.provider_refund_id,
      })),
      ...disputeRows.map((d) => ({ provider: d.provider, subject: d.provider_dispute_id })),
    ].filter((s): s is { provider: string; subject: string } => Boolean(s.provider && s.subject));
    const [inbound, deliveries, postings, disputes] = await Promise.all([
      inboxRowsAboutSubjects(db, subjects, MAX_ROWS),
      deliveriesOfEvents(
        db,
        allEvents.map((e) => e.id),
        MAX_ROWS,
      ),
      postingsOfSources(
        db,
        [id, ...charges.map((c) => c.id), ...refunds.map((r) => r.id), ...disputeRows.map((d) => d.id)],
        MAX_ROWS,
      ),
      Promise.all(disputeRows.map((row) => renderDispute(db, row, row.card_brand, clock.now()))),
    ]);
    const { client_secret: _secret, ...payment } = toPaymentIntentObject(intent);
    return {
      object: 'payment_timeline' as const,
      merchant: intent.merchant_id,
      payment,
      attempts: attempts.map(toAttemptObject),
      charges: charges.map((charge) =>
        toChargeObject(
          charge,
          refunds.filter((r) => r.charge_id === charge.id),
        ),
      ),
      events: allEvents.map(toEventObject),
      webhooks_in: inbound.map((row) => toInboxObject(row)),
      deliveries: deliveries.map(({ endpoint_url, ...row }) => ({ ...toDeliveryObject(row), endpoint_url })),
      ledger: postings.map((p) => ({
        object: 'ledger_posting' as const,
        transaction: p.transaction_id,
        kind: p.kind,
        source: { type: p.source_type, id: p.source_id },
        account: p.account_id,
        account_type: p.account_type,
        account_owner: p.account_owner,
        // Entries add their amount to the account (docs/ledger.md): the sign is the direction.
        direction: Number(p.amount) > 0 ? ('increase' as const) : ('decrease' as const),
        amount: Number(p.amount),
        currency: p.currency,
        created: unixSeconds(p.created_at),
      })),
      /** The fraud rules' decision on the latest screened confirmation, or null if none was screened. */
      fraud: intent.fraud_outcome ?? null,
      reviews: reviewRows.map(toReviewObject),
      refunds: refunds.map(toRefundObject),
      disputes,
    };
  }
}
