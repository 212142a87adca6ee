// Owns refunds of charges (DESIGN sections 4, 6 and 8) in atomic phases, so no database transaction is
// open across the provider call (invariant 4) and concurrent refunds can never exceed the charge:
//   1. lock the charge, check what remains (captured - refunded - lost in disputes), reserve the amount
//      (charge.amount_refunded += amount) and insert the refund `pending`, phase `started`; commit;
//   2. send it to the provider with the key {mode}:{attempt}:refund_{refund}, which only ever replays;
//   3. apply the outcome (refund-settlement.ts). An unknown outcome leaves the refund pending for the
//      recovery job and webhooks (invariant 3).
// Every refusal names its parameter and changes nothing (invariant 9).
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { AppError, invalidParam, resourceMissing } from '../../http/errors.js';
import type { Scope } from '../../http/expand.js';
import type { IdempotencyHandle } from '../../http/idempotency.js';
import { type ListParams, listObject, paginate } from '../../http/pagination.js';
import { initialMetadata, MetadataLimitError, mergeMetadata } from '../../http/params.js';
import { newId } from '../../ids.js';
import type { PaymentProvider, ProviderName, RefundOutcome } from '../../providers/provider.js';
import type { EventsService } from '../events/events.service.js';
import { attemptContext } from '../payments/payment-flows.js';
import { findAttempt } from '../payments/payments.repository.js';
import type { PaymentsService } from '../payments/payments.service.js';
import type { ChargeRow, RefundRow } from '../payments/payments.table.js';
import { IN_FLIGHT_MS } from '../payments/recovery.js';
import { type RequestRef, recheckAt } from '../payments/settlement.js';
import { type RefundObject, toRefundObject } from './refund-object.js';
import { changedFields, type RefundSettlement } from './refund-settlement.js';
import type { CreateRefundInput, UpdateRefundInput } from './refunds.js';
import {
  addRefunded,
  findRefund,
  insertRefund,
  lockCharge,
  lockRefund,
  refundsQuery,
  updateRefund,
} from './refunds.repository.js';

export interface RefundsDeps {
  db: Kysely<Database>;
  clock: Clock;
  /** The providers behind their circuit breakers and limits (the gateway), by name. */
  providers: { get(name: ProviderName): PaymentProvider | undefined };
  events: EventsService;
  payments: PaymentsService;
  settlement: RefundSettlement;
}

export interface RefundRequest {
  request?: RequestRef;
  idempotency?: IdempotencyHandle | undefined;
}

/** Recovery point of POST /v1/refunds, stored with the idempotency key in the reservation's transaction. */
export interface RefundRecoveryData {
  refundId: string;
}

/**
 * `first`: the request's own first sending, so a refusal or a failed connection proves nothing was ever
 * refunded. `again`: a repeat (recovery, a resumed request), where an earlier sending may have arrived.
 */
export type Sending = 'first' | 'again';

/** Open or lost disputes block refunds; a won dispute or a closed inquiry does not (Stripe's rule). */
const REFUNDABLE_DISPUTE_STATUSES = new Set(['won', 'warning_closed']);

export class RefundsService {
  constructor(private readonly deps: RefundsDeps) {}

  async create(scope: Scope, input: CreateRefundInput, flow: RefundRequest = {}): Promise<RefundObject> {
    if (input.payment_intent !== undefined && input.charge !== undefined) {
      throw invalidParam('charge', 'Pass either payment_intent or charge, not both.');
    }
    if (input.payment_intent === undefined && input.charge === undefined) {
      throw new AppError(
        400,
        'invalid_request_error',
        'parameter_missing',
        'One of the following params should be provided for this request: payment_intent or charge.',
        { param: 'payment_intent', shouldRetry: false },
      );
    }
    if (input.amount !== undefined && input.amount < 1) {
      throw invalidParam(
        'amount',
        `amount must be a positive integer of minor units (got ${input.amount}).`,
        'parameter_invalid_integer',
      );
    }
    const metadata = this.metadata(input.metadata);
    const param = input.charge !== undefined ? 'charge' : 'payment_intent';
    const chargeId = input.charge ?? (await this.chargeOfIntent(scope, input.payment_intent as string));
    await this.refuseWalletTopUp(scope, chargeId, param);
    const reserved = await this.deps.db.transaction().execute(async (trx) => {
      const charge = await lockCharge(trx, scope, chargeId);
      if (!charge) throw resourceMissing('charge', chargeId, param);
      const amount = this.refundable(charge, param, input.amount);
      if (!this.deps.providers.get(charge.provider as ProviderName)) {
        throw new AppError(
          503,
          'api_error',
          'provider_unavailable',
          `The provider of this charge (${charge.provider}) is not configured; nothing was refunded.`,
          { shouldRetry: false, releasesIdempotencyKey: true },
        );
      }
      return this.reserve(trx, scope, charge, amount, input, metadata, flow);
    });
    const outcome = await this.send(reserved);
    return toRefundObject(await this.settle(reserved, outcome, 'first', flow.request, param));
  }

  /** The refund a resumed request reserved before its process died, taken one step further. */
  async resume(scope: Scope, data: RefundRecoveryData, request?: RequestRef): Promise<RefundObject | null> {
    const refund = await findRefund(this.deps.db, scope, data.refundId);
    if (!refund) return null;
    if (refund.phase !== 'started') return toRefundObject(refund);
    return toRefundObject(await this.settle(refund, await this.send(refund), 'again', request));
  }

  /**
   * A card top-up of a wallet credited the customer's wallet, not the merchant: refunding it must take
   * the money back out of the wallet, which may have been spent. Not supported yet, so it is refused
   * before anything is written or sent (the top-up's dispute path posts the shortfall to losses).
   */
  private async refuseWalletTopUp(scope: Scope, chargeId: string, param: string): Promise<void> {
    const charge = await this.deps.db
      .selectFrom('charges')
      .select('payment_intent_id')
      .where('id', '=', chargeId)
      .where('merchant_id', '=', scope.merchantId)
      .where('livemode', '=', scope.livemode)
      .executeTakeFirst();
    if (!charge) return;
    const intent = await this.deps.payments.row(scope, charge.payment_intent_id, param);
    if ((intent.extra as Record<string, unknown>)?.wallet_topup === undefined) return;
    throw new AppError(
      400,
      'invalid_request_error',
      'charge_is_wallet_topup',
      `Charge ${chargeId} funded a wallet; refunding wallet top-ups is not supported.`,
      { param, shouldRetry: false, releasesIdempotencyKey: true },
    );
  }

  private async chargeOfIntent(scope: Scope, paymentIntentId: string): Promise<string> {
    const intent = await this.deps.payments.row(scope, paymentIntentId, 'payment_intent');
    if (!intent.latest_charge_id) {
      const why =
        intent.status === 'canceled' ? 'was canceled before anything was captured' : 'has no captured charge';
      throw chargeNotCaptured(
        'payment_intent',
        `This PaymentIntent (${intent.id}) ${why}; there is nothing to refund.`,
      );
    }
    return intent.latest_charge_id;
  }

  /** How much this refund takes: the amount asked for, or everything that remains. */
  private refundable(charge: ChargeRow, param: string, asked: number | undefined): number {
    if (charge.status !== 'succeeded') {
      throw chargeNotCaptured(
        param,
        `Charge ${charge.id} failed; nothing was captured, so there is nothing to refund.`,
      );
    }
    if (!charge.captured || charge.amount_captured === 0) {
      throw chargeNotCaptured(
        param,
        `Charge ${charge.id} has not been captured; cancel its PaymentIntent to release the authorization instead.`,
      );
    }
    if (charge.disputed && !REFUNDABLE_DISPUTE_STATUSES.has(charge.dispute_status ?? '')) {
      throw invalidParam(
        param,
        `Charge ${charge.id} has been disputed (${charge.dispute_status}); it cannot be refunded while the dispute is open or after it was lost.`,
        'charge_disputed',
      );
    }
    const remaining = charge.amount_captured - charge.amount_refunded - charge.amount_lost_in_disputes;
    if (remaining <= 0) {
      throw invalidParam(param, `Charge ${charge.id} has already been refunded.`, 'charge_already_refunded');
    }
    const amount = asked ?? remaining;
    if (amount > remaining) {
      throw invalidParam(
        'amount',
        `Refund amount (${amount}) is greater than the unrefunded amount on charge ${charge.id} (${remaining} ${charge.currency} minor units).`,
        'amount_too_large',
      );
    }
    return amount;
  }

  private async reserve(
    trx: Transaction<Database>,
    scope: Scope,
    charge: ChargeRow,
    amount: number,
    input: CreateRefundInput,
    metadata: Record<string, string>,
    flow: RefundRequest,
  ): Promise<RefundRow> {
    const now = this.deps.clock.now();
    await addRefunded(trx, charge.id, amount);
    const refund = await insertRefund(trx, {
      id: newId('re'),
      merchant_id: scope.merchantId,
      livemode: scope.livemode,
      charge_id: charge.id,
      payment_intent_id: charge.payment_intent_id,
      attempt_id: charge.attempt_id,
      created_at: now,
      amount,
      currency: charge.currency,
      status: 'pending',
      reason: input.reason ?? null,
      metadata: JSON.stringify(metadata),
      phase: 'started',
      // If this request dies before the provider answers, recovery picks the refund up once no sending
      // of it can still be in flight.
      next_check_at: new Date(now.getTime() + IN_FLIGHT_MS),
    });
    await flow.idempotency?.checkpoint(trx, 'refund_reserved', {
      refundId: refund.id,
    } satisfies RefundRecoveryData);
    return refund;
  }

  /** Phase 2: the provider call, outside any transaction, with the refund's own idempotency key. */
  async send(refund: RefundRow): Promise<RefundOutcome> {
    const attempt = await findAttempt(this.deps.db, refund.attempt_id);
    if (!attempt?.provider_payment_id)
      throw new Error(`refund ${refund.id}: its charge has no provider payment`);
    const provider = this.deps.providers.get(attempt.provider as ProviderName);
    if (!provider) {
      return { status: 'no_charge', reason: 'unsupported', message: `${attempt.provider} is not configured` };
    }
    return provider.refund(
      { ...attemptContext(attempt), refundId: refund.id },
      attempt.provider_payment_id,
      refund.amount,
    );
  }

  /** Phase 3: applies the provider's answer; on a first sending, a proven non-refund undoes the reservation. */
  async settle(
    refund: RefundRow,
    outcome: RefundOutcome,
    sending: Sending,
    request?: RequestRef,
    param = 'charge',
  ): Promise<RefundRow> {
    const { settlement } = this.deps;
    let settled: RefundRow | undefined;
    switch (outcome.status) {
      case 'succeeded':
      case 'pending':
        settled = await settlement.apply(refund.id, outcome, request);
        break;
      case 'failed':
        if (!outcome.providerRefundId && sending === 'first') {
          // The provider refused the request itself (a 400): no refund exists there, so none here.
          await settlement.discard(refund.id);
          throw invalidParam(
            outcome.code.startsWith('amount') ? 'amount' : param,
            outcome.message,
            outcome.code,
          );
        }
        settled = await settlement.apply(
          refund.id,
          { status: 'failed', providerRefundId: outcome.providerRefundId, reason: outcome.code },
          request,
        );
        break;
      case 'no_charge':
        if (sending === 'first') {
          await settlement.discard(refund.id);
          throw new AppError(
            503,
            'api_error',
            'provider_unavailable',
            `The refund could not reach the provider; nothing was refunded. ${outcome.message}`,
            { shouldRetry: true, releasesIdempotencyKey: true },
          );
        }
        settled = await settlement.recheck(refund.id, recheckAt(this.deps.clock.now(), refund.created_at));
        break;
      case 'unknown':
        settled = await settlement.recheck(refund.id, recheckAt(this.deps.clock.now(), refund.created_at));
        break;
    }
    if (!settled) throw new Error(`refund ${refund.id} disappeared while it was being settled`);
    return settled;
  }

  async retrieve(scope: Scope, id: string): Promise<RefundObject> {
    const row = await findRefund(this.deps.db, scope, id);
    if (!row) throw resourceMissing('refund', id, 'id');
    return toRefundObject(row);
  }

  async find(scope: Scope, id: string): Promise<RefundObject | null> {
    const row = await findRefund(this.deps.db, scope, id);
    return row ? toRefundObject(row) : null;
  }

  async list(
    scope: Scope,
    params: ListParams & { charge?: string | undefined; payment_intent?: string | undefined },
  ) {
    const page = await paginate(
      refundsQuery(this.deps.db, scope, params),
      params,
      async (id) => (await findRefund(this.deps.db, scope, id))?.created_at,
    );
    return listObject('/v1/refunds', page.rows.map(toRefundObject), page.hasMore);
  }

  /** Metadata is the only thing a merchant may change on a refund. */
  async update(scope: Scope, id: string, input: UpdateRefundInput, request?: RequestRef) {
    return this.deps.db.transaction().execute(async (trx) => {
      const current = await lockRefund(trx, scope, id);
      if (!current) throw resourceMissing('refund', id, 'id');
      const metadata = this.metadata(input.metadata, current.metadata);
      const before = toRefundObject(current);
      if (JSON.stringify(metadata) === JSON.stringify(current.metadata)) return before;
      const after = toRefundObject(await updateRefund(trx, id, { metadata: JSON.stringify(metadata) }));
      await this.deps.events.record(trx, scope, {
        type: 'refund.updated',
        object: after,
        previousAttributes: changedFields(before, after),
        request,
      });
      return after;
    });
  }

  private metadata(update: CreateRefundInput['metadata'], current?: Record<string, string>) {
    try {
      return current ? mergeMetadata(current, update) : initialMetadata(update);
    } catch (error) {
      if (error instanceof MetadataLimitError) throw invalidParam('metadata', error.message);
      throw error;
    }
  }
}

function chargeNotCaptured(param: string, message: string): AppError {
  return invalidParam(param, message, 'charge_not_captured');
}
