// GET /admin/payment_intents/:id/attempts: every provider attempt of a payment, in order, for on-call
// engineers (runbooks 000 and 001: which provider was tried, what it answered, how long it took, and
// whether the payment fell back), and the fraud rules' decision on it (`fraud_outcome`: the action, each
// rule that fired and why, the review holding it; the attempt's `request_three_d_secure` and
// `hold_for_review`). Operators see across merchants, so the intent is found by id alone.
import type { Kysely } from 'kysely';
import { unixSeconds } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { resourceMissing } from '../../http/errors.js';
import { text } from '../../http/params.js';
import type { Router } from '../../http/route.js';
import type { PaymentAttemptRow } from './payments.table.js';

export function toAttemptObject(row: PaymentAttemptRow) {
  return {
    id: row.id,
    object: 'payment_attempt' as const,
    payment_intent: row.payment_intent_id,
    provider: row.provider,
    provider_payment_id: row.provider_payment_id,
    status: row.status,
    phase: row.phase,
    pending_operation: row.pending_operation,
    amount: row.amount,
    currency: row.currency,
    capture_method: row.capture_method,
    request_three_d_secure: row.request_three_d_secure,
    hold_for_review: row.hold_for_review,
    latency_ms: row.latency_ms,
    error: row.error,
    charge: row.charge_id,
    livemode: row.livemode,
    created: unixSeconds(row.created_at),
    settled: row.settled_at ? unixSeconds(row.settled_at) : null,
  };
}

export function registerAttemptRoutes(router: Router, db: Kysely<Database>): void {
  router.operator({
    method: 'GET',
    url: '/admin/payment_intents/:id/attempts',
    summary: "A payment intent's provider attempts, oldest first (provider, outcome, latency, error)",
    tags: ['Payments (admin)'],
    permission: 'payment:read',
    params: { id: text(255) },
    handler: async ({ params }) => {
      const rows = await db
        .selectFrom('payment_attempts')
        .selectAll()
        .where('payment_intent_id', '=', params.id)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      const intent = await db
        .selectFrom('payment_intents')
        .select(['id', 'fraud_outcome'])
        .where('id', '=', params.id)
        .executeTakeFirst();
      if (!intent) throw resourceMissing('payment_intent', params.id, 'id');
      return {
        object: 'list',
        data: rows.map(toAttemptObject),
        has_more: false,
        url: `/admin/payment_intents/${params.id}/attempts`,
        fraud_outcome: intent.fraud_outcome,
      };
    },
  });
}
