// Owns what happens when a payment intent reaches the "card network": 3-D Secure challenges, one charge
// per attempt (succeeded or failed, as the sandbox card decides), captures, and the balance
// transactions and events each step produces, in the order Stripe sends them.
import { randomToken } from '../shared/random-id.js';
import { settleCharge } from './balance.js';
import { DECLINES, type Decline } from './declines.js';
import { openDispute } from './disputes.js';
import { type StripeErrorBody, unexpectedState } from './errors.js';
import type { ChargeRecord, PaymentIntentRecord, PaymentMethodRecord } from './records.js';
import { renderPaymentMethod } from './render-payments.js';
import type { Ctx, StripeStore } from './store.js';

export interface Outcome {
  pi: PaymentIntentRecord;
  /** Set when the attempt failed: the 402 the confirming request answers. */
  failure: StripeErrorBody | null;
}

export interface ConfirmOptions {
  baseUrl: string;
  offSession: boolean;
  errorOnRequiresAction: boolean;
}

const AUTHENTICATION_REQUIRED: Decline = {
  code: 'authentication_required',
  decline_code: 'authentication_required',
  message: 'Your card was declined. This transaction requires authentication.',
  outcome: {
    network_status: 'declined_by_network',
    reason: 'authentication_required',
    type: 'issuer_declined',
    seller_message: 'The bank returned the decline code `authentication_required`.',
  },
};

/**
 * Stripe's `payment_method_options[card][request_three_d_secure]=any`: the integration (or its fraud
 * rules) asks for 3-D Secure whatever the card's own rules; every emulated card supports it.
 */
export function requestsThreeDSecure(pi: PaymentIntentRecord): boolean {
  const options = pi.extra['payment_method_options'] as {
    card?: { request_three_d_secure?: unknown };
  } | null;
  return options?.card?.request_three_d_secure === 'any';
}

export function confirmIntent(
  store: StripeStore,
  ctx: Ctx,
  pi: PaymentIntentRecord,
  options: ConfirmOptions,
): Outcome {
  const pm = pi.payment_method ? store.get('payment_method', pi.payment_method) : undefined;
  if (!pm) {
    throw unexpectedState(
      "You cannot confirm this PaymentIntent because it's missing a payment method. Update the PaymentIntent with a payment_method and then confirm it again.",
      'payment_method',
    );
  }
  if ((pm.scenario === 'three_ds' || requestsThreeDSecure(pi)) && !pi.three_ds_passed) {
    if (options.offSession || options.errorOnRequiresAction)
      return attempt(store, ctx, pi, pm, AUTHENTICATION_REQUIRED);
    const token = randomToken(24);
    const previous = pi;
    pi = store.update(pi, {
      status: 'requires_action',
      three_ds_token: token,
      last_payment_error: null,
      next_action: {
        type: 'redirect_to_url',
        redirect_to_url: {
          return_url: pi.return_url,
          url: `${options.baseUrl}/3ds/authenticate/${pi.id}/${token}`,
        },
      },
    });
    store.emit('payment_intent.requires_action', pi, ctx, previous);
    return { pi, failure: null };
  }
  return attempt(store, ctx, pi, pm, DECLINES[pm.scenario] ?? null);
}

/** Finishes a 3-D Secure challenge from the redirect page: approve charges the card, fail does not. */
export function completeAuthentication(
  store: StripeStore,
  ctx: Ctx,
  pi: PaymentIntentRecord,
  approve: boolean,
): Outcome {
  if (pi.status !== 'requires_action') return { pi, failure: null };
  const pm = store.get('payment_method', pi.payment_method ?? '');
  if (approve && pm) {
    const passed = store.update(pi, { three_ds_passed: true, three_ds_token: null, next_action: null });
    return attempt(store, ctx, passed, pm, DECLINES[pm.scenario] ?? null);
  }
  const failure: StripeErrorBody = {
    type: 'invalid_request_error',
    code: 'payment_intent_authentication_failure',
    message:
      'The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.',
    ...(pm ? { payment_method: renderPaymentMethod(pm) } : {}),
  };
  const previous = pi;
  pi = store.update(pi, {
    status: 'requires_payment_method',
    payment_method: null,
    next_action: null,
    three_ds_token: null,
    last_payment_error: failure,
  });
  store.emit('payment_intent.payment_failed', pi, ctx, previous);
  return { pi, failure };
}

function attempt(
  store: StripeStore,
  ctx: Ctx,
  pi: PaymentIntentRecord,
  pm: PaymentMethodRecord,
  decline: Decline | null,
): Outcome {
  const capturedNow = decline === null && pi.capture_method !== 'manual';
  let charge = store.insert<ChargeRecord>({
    object: 'charge',
    id: store.newId('charge'),
    account: ctx.account,
    created: ctx.now,
    amount: pi.amount,
    amount_captured: capturedNow ? pi.amount : 0,
    amount_refunded: 0,
    captured: capturedNow,
    currency: pi.currency,
    customer: pi.customer,
    description: pi.description,
    metadata: pi.metadata,
    payment_intent: pi.id,
    payment_method: pm.id,
    card: pm.card,
    billing_details: pm.billing_details,
    status: decline ? 'failed' : 'succeeded',
    failure_code: decline?.code ?? null,
    failure_message: decline?.message ?? null,
    outcome: decline
      ? {
          ...decline.outcome,
          advice_code: null,
          network_advice_code: null,
          network_decline_code: null,
          risk_level: 'normal',
          risk_score: 20,
        }
      : {
          advice_code: null,
          network_advice_code: null,
          network_decline_code: null,
          network_status: 'approved_by_network',
          reason: null,
          risk_level: 'normal',
          risk_score: 20,
          seller_message: 'Payment complete.',
          type: 'authorized',
        },
    balance_transaction: null,
    dispute: null,
    refund_ids: [],
    three_d_secure: pi.three_ds_passed,
    receipt_email: (pi.extra['receipt_email'] as string | undefined) ?? null,
  });
  const previous = pi;

  if (decline) {
    const failure: StripeErrorBody = {
      type: 'card_error',
      code: decline.code,
      ...(decline.decline_code ? { decline_code: decline.decline_code } : {}),
      message: decline.message,
      charge: charge.id,
      doc_url: `https://stripe.com/docs/error-codes/${decline.code.replace(/_/g, '-')}`,
      payment_method: renderPaymentMethod(pm),
    };
    pi = store.update(pi, {
      status: 'requires_payment_method',
      latest_charge: charge.id,
      payment_method: null,
      next_action: null,
      last_payment_error: failure,
    });
    store.emit('charge.failed', charge, ctx);
    store.emit('payment_intent.payment_failed', pi, ctx, previous);
    return { pi, failure };
  }

  if (pi.capture_method === 'manual') {
    pi = store.update(pi, {
      status: 'requires_capture',
      latest_charge: charge.id,
      amount_capturable: pi.amount,
      next_action: null,
      last_payment_error: null,
    });
    store.emit('charge.succeeded', charge, ctx);
    store.emit('payment_intent.amount_capturable_updated', pi, ctx, previous);
    return { pi, failure: null };
  }

  if (pi.capture_method === 'automatic') charge = settleCharge(store, ctx, charge, pi.amount);
  pi = store.update(pi, {
    status: 'succeeded',
    latest_charge: charge.id,
    amount_received: pi.amount,
    next_action: null,
    last_payment_error: null,
  });
  store.emit('charge.succeeded', charge, ctx);
  store.emit('payment_intent.succeeded', pi, ctx, previous);
  if (pi.capture_method === 'automatic_async') {
    // Stripe settles async captures a moment after answering: the confirm response has no balance
    // transaction yet and a charge.updated event follows with it.
    const chargeId = charge.id;
    setImmediate(() => {
      const current = store.get('charge', chargeId);
      if (!current || current.balance_transaction) return;
      const settled = settleCharge(store, ctx, current, current.amount_captured);
      store.emit('charge.updated', settled, ctx, current);
    });
  }
  if (pm.scenario === 'dispute' || pm.scenario === 'inquiry') openDispute(store, ctx, charge.id, pm.scenario);
  return { pi, failure: null };
}
