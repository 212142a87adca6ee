// Owns the end of an authorization: capturing all or part of it (the rest is released) or canceling it.
import { settleCharge } from './balance.js';
import { openDispute } from './disputes.js';
import { invalidRequest, unexpectedState } from './errors.js';
import type { PaymentIntentRecord } from './records.js';
import type { Ctx, StripeStore } from './store.js';

export function captureIntent(
  store: StripeStore,
  ctx: Ctx,
  pi: PaymentIntentRecord,
  amountToCapture: number | undefined,
): PaymentIntentRecord {
  if (pi.status !== 'requires_capture') {
    throw unexpectedState(
      `This PaymentIntent could not be captured because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.`,
    );
  }
  const amount = amountToCapture ?? pi.amount_capturable;
  if (amount < 1 || amount > pi.amount_capturable) {
    throw invalidRequest(
      `The amount_to_capture (${amount}) must be between 1 and the amount_capturable (${pi.amount_capturable}).`,
      amount < 1 ? 'amount_too_small' : 'amount_too_large',
      'amount_to_capture',
    );
  }
  const charge = store.get('charge', pi.latest_charge ?? '')!;
  const captured = settleCharge(
    store,
    ctx,
    store.update(charge, { captured: true, amount_captured: amount }),
    amount,
  );
  const previous = pi;
  // A partial capture releases the rest of the authorization: nothing is capturable afterwards.
  pi = store.update(pi, { status: 'succeeded', amount_received: amount, amount_capturable: 0 });
  store.emit('charge.captured', captured, ctx, charge);
  store.emit('payment_intent.succeeded', pi, ctx, previous);
  const pm = store.get('payment_method', charge.payment_method);
  if (pm?.scenario === 'dispute' || pm?.scenario === 'inquiry')
    openDispute(store, ctx, charge.id, pm.scenario);
  return pi;
}

const CANCELABLE = new Set([
  'requires_payment_method',
  'requires_capture',
  'requires_confirmation',
  'requires_action',
  'processing',
]);

export function cancelIntent(
  store: StripeStore,
  ctx: Ctx,
  pi: PaymentIntentRecord,
  reason: string | undefined,
): PaymentIntentRecord {
  if (!CANCELABLE.has(pi.status)) {
    throw unexpectedState(
      `You cannot cancel this PaymentIntent because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be canceled: ${[...CANCELABLE].join(', ')}.`,
    );
  }
  const previous = pi;
  pi = store.update(pi, {
    status: 'canceled',
    canceled_at: ctx.now,
    cancellation_reason: reason ?? null,
    amount_capturable: 0,
    next_action: null,
    three_ds_token: null,
  });
  store.emit('payment_intent.canceled', pi, ctx, previous);
  return pi;
}
