// Owns turning what the Stripe SDK throws into typed outcomes at the adapter edge. The line that
// matters is between `no_charge` (the request provably never reached Stripe, or Stripe refused it
// before doing anything: the only failures that allow fallback) and `unknown` (it may have charged:
// settled later by evidence, never by a second POST). When in doubt, the answer is `unknown`.
import Stripe from 'stripe';
import type { NoChargeReason, PaymentOutcome, RefundOutcome } from '../provider.js';
import { DeadlineExceededError } from '../resilience.js';
import { neverSentReason, retryAfterFrom } from '../transport-errors.js';
import { chargeFromDecline, maskCardNumbers, toPaymentOutcome } from './stripe.transformers.js';

type Failure = PaymentOutcome;

/** A no-charge reason only when every code found says the request was never sent. */
export function connectionNoChargeReason(error: Stripe.errors.StripeConnectionError): NoChargeReason | null {
  return neverSentReason(error.detail);
}

/** Retry-After is seconds or an HTTP date; milliseconds from `nowMs`, or undefined when absent. */
export function retryAfterMs(
  headers: Record<string, unknown> | undefined,
  nowMs: number,
): number | undefined {
  const value = headers?.['retry-after'];
  const text = Array.isArray(value) ? value[0] : value;
  return retryAfterFrom(typeof text === 'string' ? text : undefined, nowMs);
}

function noChargeOf(error: unknown, nowMs: number): Extract<PaymentOutcome, { status: 'no_charge' }> | null {
  const { errors } = Stripe;
  if (error instanceof errors.StripeConnectionError) {
    const reason = connectionNoChargeReason(error);
    return reason
      ? { status: 'no_charge', reason, message: `Stripe unreachable: ${maskCardNumbers(error.message)}` }
      : null;
  }
  if (error instanceof errors.StripeAuthenticationError || error instanceof errors.StripePermissionError) {
    return { status: 'no_charge', reason: 'authentication', message: maskCardNumbers(error.message) };
  }
  if (error instanceof errors.StripeRateLimitError) {
    return {
      status: 'no_charge',
      reason: 'rate_limited',
      message: maskCardNumbers(error.message),
      retryAfterMs: retryAfterMs(error.headers, nowMs),
    };
  }
  return null;
}

function unknownOf(error: unknown, providerPaymentId: string | undefined): PaymentOutcome {
  const text =
    error instanceof DeadlineExceededError
      ? error.message
      : error instanceof Stripe.errors.StripeError
        ? `${error.type}${error.statusCode ? ` ${error.statusCode}` : ''}: ${error.message}`
        : `unexpected error: ${(error as Error)?.message ?? String(error)}`;
  const message = maskCardNumbers(text);
  return { status: 'unknown', ...(providerPaymentId ? { providerPaymentId } : {}), message };
}

/**
 * A state conflict that does not carry the payment intent: its state must be read back before the
 * answer means anything (an intent that already charged answers confirm with this 400 too).
 */
export function needsStateReadBack(error: unknown): boolean {
  return (
    error instanceof Stripe.errors.StripeInvalidRequestError &&
    error.code === 'payment_intent_unexpected_state' &&
    !error.payment_intent
  );
}

/** The outcome of a failed payment call (create, confirm, capture, cancel, retrieve). */
export function paymentFailure(
  error: unknown,
  providerPaymentId: string | undefined,
  nowMs: number,
): Failure {
  const noCharge = noChargeOf(error, nowMs);
  if (noCharge) return noCharge;
  const { errors } = Stripe;
  if (error instanceof errors.StripeCardError) {
    const pi = error.payment_intent;
    return {
      status: 'declined',
      providerPaymentId: pi?.id ?? providerPaymentId ?? '',
      code: error.code ?? 'card_declined',
      declineCode: error.decline_code || undefined,
      message: maskCardNumbers(error.message),
      charge: chargeFromDecline(error.charge, pi, error.payment_method),
    };
  }
  if (error instanceof errors.StripeInvalidRequestError) {
    // A state conflict carries the payment intent: its state is better evidence than the error, and a
    // payment that already succeeded must never read as "no charge" (that would allow a fallback).
    if (error.code === 'payment_intent_unexpected_state' && error.payment_intent) {
      return toPaymentOutcome(error.payment_intent);
    }
    return { status: 'no_charge', reason: 'invalid_request', message: maskCardNumbers(error.message) };
  }
  // StripeAPIError (5xx, unreadable answer), idempotency conflicts, timeouts, resets: it may have charged.
  return unknownOf(error, providerPaymentId);
}

/** The outcome of a failed refund call. */
export function refundFailure(error: unknown, nowMs: number): RefundOutcome {
  const noCharge = noChargeOf(error, nowMs);
  if (noCharge) return { status: 'no_charge', reason: noCharge.reason, message: noCharge.message };
  const { errors } = Stripe;
  if (error instanceof errors.StripeInvalidRequestError || error instanceof errors.StripeCardError) {
    return { status: 'failed', code: error.code ?? 'refund_failed', message: maskCardNumbers(error.message) };
  }
  const unknown = unknownOf(error, undefined);
  return { status: 'unknown', message: unknown.status === 'unknown' ? unknown.message : 'unknown' };
}
