// Payments as operators look them up (issue 8): list and search across merchants with on-call filters,
// one payment with everything that happened to it, and attempt outcome counts over a window for
// `payctl monitor`. Read-only; both the admin routes and payctl in process call it.
import { type Kysely, sql } from 'kysely';
import { type Clock, unixSeconds } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { invalidParam, resourceMissing } from '../../http/errors.js';
import type { Scope } from '../../http/expand.js';
import { toEventObject } from '../events/events.js';
import { toRefundObject } from '../refunds/refund-object.js';
import { toAttemptObject } from './attempts.routes.js';
import { toChargeObject } from './charges.js';
import {
  attemptOutcome,
  emptyCounts,
  type OperatorListInput,
  type OperatorPayment,
  type OperatorSearchInput,
  type PaymentStats,
  successRate,
  toOperatorPayment,
} from './operator-payments.js';
import {
  attemptCounts,
  attemptsOfIntent,
  chargesOfIntent,
  eventsOfObjects,
  findIntentById,
  operatorIntentsQuery,
  refundsOfIntent,
} from './operator-payments.repository.js';
import { toPaymentIntentObject } from './payment-intents.js';
import { parseSearchQuery } from './search.js';

/** A payment's story is short; a runaway one is cut here rather than flooding a terminal. */
const MAX_EVENTS = 200;

export class OperatorPaymentsService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async list(input: OperatorListInput) {
    const limit = input.limit ?? 20;
    let query = operatorIntentsQuery(this.db, input, this.clock.now());
    if (input.starting_after) {
      const cursor = await findIntentById(this.db, input.starting_after);
      if (!cursor) {
        throw invalidParam(
          'starting_after',
          `No such payment_intent: '${input.starting_after}' (starting_after must be an id from this list)`,
          'resource_missing',
        );
      }
      query = query.where(sql<boolean>`(pi.created_at, pi.id) < (${cursor.created_at}, ${cursor.id})`);
    }
    const rows = await query
      .orderBy('pi.created_at', 'desc')
      .orderBy('pi.id', 'desc')
      .limit(limit + 1)
      .execute();
    return {
      object: 'list' as const,
      data: rows.slice(0, limit).map(toOperatorPayment),
      has_more: rows.length > limit,
      url: '/admin/payment_intents',
    };
  }

  /** Stripe's search language (metadata, status, currency, customer) plus the list filters. */
  async search(input: OperatorSearchInput) {
    const limit = input.limit ?? 20;
    let query = operatorIntentsQuery(this.db, input, this.clock.now());
    for (const clause of parseSearchQuery(input.query)) {
      if (clause.field === 'metadata') {
        query = query.where('pi.metadata', '@>', JSON.stringify({ [clause.key]: clause.value }) as never);
      } else {
        const column = clause.field === 'customer' ? 'pi.customer_id' : (`pi.${clause.field}` as const);
        query = query.where(column, '=', clause.value);
      }
    }
    const offset = input.page ? Number(input.page) : 0;
    const rows = await query
      .orderBy('pi.created_at', 'desc')
      .orderBy('pi.id', 'desc')
      .offset(offset)
      .limit(limit + 1)
      .execute();
    const hasMore = rows.length > limit;
    return {
      object: 'search_result' as const,
      data: rows.slice(0, limit).map(toOperatorPayment) as OperatorPayment[],
      has_more: hasMore,
      next_page: hasMore ? String(offset + limit) : null,
      url: '/admin/payment_intents/search',
    };
  }

  /** One payment's rows: the intent, its attempts, charges, refunds and the events about any of them. */
  async rowsOf(id: string) {
    const intent = await findIntentById(this.db, id);
    if (!intent) throw resourceMissing('payment_intent', id, 'id');
    const [attempts, charges, refunds] = await Promise.all([
      attemptsOfIntent(this.db, id),
      chargesOfIntent(this.db, id),
      refundsOfIntent(this.db, id),
    ]);
    const events = await eventsOfObjects(
      this.db,
      [id, ...charges.map((c) => c.id), ...refunds.map((r) => r.id)],
      MAX_EVENTS,
    );
    return { intent, attempts, charges, refunds, events };
  }

  /** One payment with its attempts, charges, refunds and events, whichever merchant it belongs to. */
  async show(id: string) {
    const { intent, attempts, charges, refunds, events } = await this.rowsOf(id);
    const { client_secret: _secret, ...payment } = toPaymentIntentObject(intent);
    return {
      object: 'operator_payment_detail' as const,
      merchant: intent.merchant_id,
      payment_intent: payment,
      attempts: attempts.map(toAttemptObject),
      charges: charges.map((charge) =>
        toChargeObject(
          charge,
          refunds.filter((r) => r.charge_id === charge.id),
        ),
      ),
      refunds: refunds.map(toRefundObject),
      events: events.map(toEventObject),
    };
  }

  /** The merchant and mode a payment belongs to, for operator actions taken in its name. */
  async scopeOf(id: string, param: string): Promise<Scope> {
    const intent = await findIntentById(this.db, id);
    if (!intent) throw resourceMissing('payment_intent', id, param);
    return { merchantId: intent.merchant_id, livemode: intent.livemode };
  }

  /** Attempts created from `since` (or `window` seconds ago) until now, by outcome and provider. */
  async stats(input: { since?: Date | undefined; window?: number | undefined }): Promise<PaymentStats> {
    if (input.since && input.window !== undefined) {
      throw invalidParam('window', 'Pass either since or window, not both.');
    }
    const until = this.clock.now();
    const since = input.since ?? new Date(until.getTime() - (input.window ?? 3600) * 1000);
    if (since > until) throw invalidParam('since', 'since must not be in the future.');
    const total = emptyCounts();
    const providers = new Map<string, ReturnType<typeof emptyCounts>>();
    for (const row of await attemptCounts(this.db, since, until)) {
      const outcome = attemptOutcome(row.status, row.error_type);
      total[outcome] += row.count;
      const counts = providers.get(row.provider) ?? emptyCounts();
      counts[outcome] += row.count;
      providers.set(row.provider, counts);
    }
    const sum = (counts: ReturnType<typeof emptyCounts>) => Object.values(counts).reduce((a, b) => a + b, 0);
    return {
      object: 'payment_stats',
      since: unixSeconds(since),
      until: unixSeconds(until),
      attempts: sum(total),
      outcomes: total,
      success_rate: successRate(total),
      by_provider: [...providers.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([provider, counts]) => ({ provider, attempts: sum(counts), ...counts })),
    };
  }
}
