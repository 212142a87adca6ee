// Owns /v1/refunds. A refund never takes a charge past what was captured: refunded + new amount must
// stay within amount_captured, and a charge with an open or lost dispute cannot be refunded. A refund of
// a charge paid with Stripe's asynchronous-refund-failure card (4000000000005126, pm_card_refundFail)
// succeeds, then fails about a second later (failDueRefunds), as in Stripe's test mode.
import { recordBalanceTransaction } from '../balance.js';
import { formatAmount } from '../currencies.js';
import { invalidRequest } from '../errors.js';
import type { ApiRoute } from '../http.js';
import { LIST_PARAMS, listPage } from '../listing.js';
import { mergeMetadata, Params } from '../params.js';
import type { ChargeRecord, RefundRecord } from '../records.js';
import type { Ctx, StripeStore } from '../store.js';

const REASONS = ['duplicate', 'fraudulent', 'requested_by_customer'] as const;

function refundableCharge(store: StripeStore, ctx: Ctx, params: Params): ChargeRecord {
  const chargeId = params.string('charge');
  const intentId = params.string('payment_intent');
  if (!chargeId && !intentId) {
    throw invalidRequest(
      'One of the following params should be provided for this request: payment_intent or charge.',
      'parameter_missing',
    );
  }
  if (chargeId) return store.owned('charge', ctx.account, chargeId, 'charge');
  const pi = store.owned('payment_intent', ctx.account, intentId!, 'payment_intent');
  const charge = pi.latest_charge ? store.get('charge', pi.latest_charge) : undefined;
  if (charge?.status !== 'succeeded') {
    throw invalidRequest(
      `This PaymentIntent (${pi.id}) does not have a successful charge to refund.`,
      'charge_not_refundable',
      'payment_intent',
    );
  }
  return charge;
}

function createRefund(store: StripeStore, ctx: Ctx, params: Params): RefundRecord {
  const charge = refundableCharge(store, ctx, params);
  const dispute = charge.dispute ? store.get('dispute', charge.dispute) : undefined;
  if (dispute && dispute.status !== 'won') {
    throw invalidRequest(
      `Charge ${charge.id} has been charged back; cannot issue a refund.`,
      'charge_disputed',
    );
  }
  if (!charge.captured) {
    throw invalidRequest(
      `Charge ${charge.id} has not been captured; cancel its PaymentIntent to release the authorization instead.`,
      'charge_not_refundable',
    );
  }
  const remaining = charge.amount_captured - charge.amount_refunded;
  if (remaining <= 0)
    throw invalidRequest(`Charge ${charge.id} has already been refunded.`, 'charge_already_refunded');
  const amount = params.integer('amount') ?? remaining;
  if (amount < 1) throw invalidRequest('Invalid positive integer', 'parameter_invalid_integer', 'amount');
  if (amount > remaining) {
    throw invalidRequest(
      `Refund amount (${formatAmount(amount, charge.currency)}) is greater than unrefunded amount on charge (${formatAmount(remaining, charge.currency)})`,
      'amount_too_large',
      'amount',
    );
  }
  const id = store.newId('refund');
  const txn = recordBalanceTransaction(store, ctx, {
    amount: -amount,
    currency: charge.currency,
    fee: 0,
    type: 'refund',
    reporting_category: 'refund',
    source: id,
    description: 'REFUND FOR CHARGE',
  });
  const refund = store.insert<RefundRecord>({
    object: 'refund',
    id,
    account: ctx.account,
    created: ctx.now,
    amount,
    currency: charge.currency,
    charge: charge.id,
    payment_intent: charge.payment_intent,
    payment_method: charge.payment_method,
    reason: params.oneOf('reason', REASONS) ?? null,
    status: 'succeeded',
    metadata: mergeMetadata({}, params.metadata()),
    balance_transaction: txn.id,
    fails_at:
      store.get('payment_method', charge.payment_method)?.scenario === 'refund_fail' ? ctx.now + 1 : null,
  });
  const refunded = store.update(charge, {
    amount_refunded: charge.amount_refunded + amount,
    refund_ids: [...charge.refund_ids, refund.id],
  });
  store.emit('refund.created', refund, ctx);
  store.emit('charge.refunded', refunded, ctx, charge);
  return refund;
}

/**
 * Fails the refunds whose failure is due (refund_fail card): the money returns to the balance with a
 * refund_failure balance transaction, the charge's amount_refunded goes down, and Stripe's events follow
 * (refund.updated, charge.refund.updated, refund.failed). Run when the clock moves and on a timer.
 */
export function failDueRefunds(store: StripeStore, now: number, apiVersion: string): void {
  for (const refund of store.all('refund')) {
    if (refund.fails_at == null || refund.status !== 'succeeded' || now < refund.fails_at) continue;
    const ctx: Ctx = {
      account: refund.account,
      now,
      request: { id: null, idempotency_key: null },
      apiVersion,
    };
    const txn = recordBalanceTransaction(store, ctx, {
      amount: refund.amount,
      currency: refund.currency,
      fee: 0,
      type: 'refund_failure',
      reporting_category: 'refund_failure',
      source: refund.id,
      description: 'REFUND FAILURE',
    });
    const failed = store.update(refund, {
      status: 'failed',
      failure_reason: 'expired_or_canceled_card',
      failure_balance_transaction: txn.id,
      fails_at: null,
    });
    const charge = store.get('charge', refund.charge);
    if (charge) store.update(charge, { amount_refunded: charge.amount_refunded - refund.amount });
    store.emit('refund.updated', failed, ctx, refund);
    store.emit('charge.refund.updated', failed, ctx, refund);
    store.emit('refund.failed', failed, ctx, refund);
  }
}

export function refundRoutes(store: StripeStore): ApiRoute[] {
  return [
    {
      method: 'POST',
      url: '/v1/refunds',
      handle(input) {
        const params = new Params(input.params, [
          'amount',
          'charge',
          'payment_intent',
          'reason',
          'metadata',
          'instructions_email',
        ]);
        params.oneOf('reason', REASONS);
        return { record: createRefund(store, input.ctx, params) };
      },
    },
    {
      method: 'GET',
      url: '/v1/refunds/:id',
      handle(input) {
        new Params(input.params, []);
        return { record: store.owned('refund', input.ctx.account, input.path['id']!, 'refund') };
      },
    },
    {
      method: 'POST',
      url: '/v1/refunds/:id',
      handle(input) {
        const params = new Params(input.params, ['metadata']);
        const refund = store.owned('refund', input.ctx.account, input.path['id']!, 'refund');
        const updated = store.update(refund, { metadata: mergeMetadata(refund.metadata, params.metadata()) });
        store.emit('refund.updated', updated, input.ctx, refund);
        return { record: updated };
      },
    },
    {
      method: 'GET',
      url: '/v1/refunds',
      handle(input) {
        const params = new Params(input.params, [...LIST_PARAMS, 'charge', 'payment_intent']);
        const chargeId = params.string('charge');
        const intentId = params.string('payment_intent');
        return {
          list: listPage(store, 'refund', input.ctx.account, params, '/v1/refunds', {
            filter:
              chargeId || intentId
                ? (refund) =>
                    (!chargeId || refund.charge === chargeId) &&
                    (!intentId || refund.payment_intent === intentId)
                : undefined,
          }),
        };
      },
    },
  ];
}
