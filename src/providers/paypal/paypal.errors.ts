// Owns turning what the PayPal client throws into typed outcomes at the adapter edge. The line that
// matters is between `no_charge` (the request provably never executed: the socket never connected,
// the OAuth token could not be had, PayPal refused us (401/403/429) or refused the request as invalid
// before acting on it: the only failures that allow fallback) and `unknown` (it may have charged:
// settled later by reading the order back, never by a second POST). When in doubt, `unknown`.
import { maskCardNumbers } from '../../pan.js';
import type { NoChargeReason, PaymentOutcome, RefundOutcome } from '../provider.js';
import { neverSentReason, retryAfterFrom, socketCodesOf } from '../transport-errors.js';
import { PayPalCallError, PayPalHttpError } from './paypal.client.js';
import { declineCodeOfIssues } from './paypal.transformers.js';

type NoCharge = Extract<PaymentOutcome, { status: 'no_charge' }>;

/**
 * 422 issues that say the order or authorization is already past this step (or not there yet): the
 * object's own state is the answer, read back, since an order that already captured must never read
 * as "no charge".
 */
const STATE_ISSUES = new Set([
  'ORDER_ALREADY_CAPTURED',
  'ORDER_ALREADY_AUTHORIZED',
  'ORDER_ALREADY_COMPLETED',
  'ORDER_COMPLETED_OR_VOIDED',
  'ORDER_NOT_APPROVED',
  'ORDER_EXPIRED',
  'PAYER_ACTION_REQUIRED',
  'AUTHORIZATION_ALREADY_CAPTURED',
  'AUTHORIZATION_VOIDED',
  'AUTHORIZATION_EXPIRED',
  'PREVIOUSLY_CAPTURED',
  'PREVIOUSLY_VOIDED',
  'CANNOT_BE_VOIDED',
  'MAX_CAPTURE_COUNT_EXCEEDED',
  'DUPLICATE_REQUEST_ID',
]);

function beforeSendReason(error: unknown): NoChargeReason | null {
  return neverSentReason(error);
}

/** Retry-After is seconds or an HTTP date; milliseconds from `nowMs`, or undefined when absent. */
export function retryAfterMs(headers: Headers, nowMs: number): number | undefined {
  return retryAfterFrom(headers.get('retry-after'), nowMs);
}

function describe(error: unknown): string {
  if (error instanceof PayPalCallError) {
    const codes = socketCodesOf(error.cause);
    return `${error.message}${codes.length ? ` (${codes.join(', ')})` : ''}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Whether the error is PayPal refusing the request as invalid (400/404/422), with its issues. */
export function validationIssues(error: unknown): string[] | null {
  if (!(error instanceof PayPalHttpError) || error.duringToken) return null;
  if (![400, 404, 422].includes(error.status)) return null;
  return [error.body?.name ?? '', ...error.issues].filter(Boolean);
}

/** The `no_charge` an error proves, or null when it proves nothing of the kind. */
export function noChargeOf(error: unknown, nowMs: number): NoCharge | null {
  const noCharge = (reason: NoChargeReason, message: string, retry?: number): NoCharge => ({
    status: 'no_charge',
    reason,
    message: maskCardNumbers(message),
    ...(retry === undefined ? {} : { retryAfterMs: retry }),
  });
  if (error instanceof PayPalCallError) {
    const reason = beforeSendReason(error.cause);
    if (reason) return noCharge(reason, `PayPal unreachable: ${describe(error)}`);
    // Failing to get a token means the API call was never made, whatever the socket said.
    if (!error.sent) return noCharge('authentication', `PayPal OAuth token unavailable: ${describe(error)}`);
    return null;
  }
  if (!(error instanceof PayPalHttpError)) return null;
  if (error.status === 429) {
    return noCharge(
      'rate_limited',
      `PayPal rate limit: ${error.message}`,
      retryAfterMs(error.headers, nowMs),
    );
  }
  if (error.duringToken) return noCharge('authentication', `PayPal OAuth token refused: ${error.message}`);
  if (error.status === 401 || error.status === 403) return noCharge('authentication', error.message);
  return null;
}

function unknownOf(error: unknown, providerPaymentId: string | undefined): PaymentOutcome {
  return {
    status: 'unknown',
    ...(providerPaymentId ? { providerPaymentId } : {}),
    message: maskCardNumbers(`PayPal outcome unknown: ${describe(error)}`),
  };
}

export type PaymentFailure = PaymentOutcome | { status: 'read_back' };

/**
 * The outcome of a failed payment call, or `read_back` when only the order's own state can say
 * (a state conflict on an order that may already be charged).
 */
export function paymentFailure(
  error: unknown,
  providerPaymentId: string | undefined,
  nowMs: number,
): PaymentFailure {
  const noCharge = noChargeOf(error, nowMs);
  if (noCharge) return noCharge;
  const issues = validationIssues(error);
  if (issues && error instanceof PayPalHttpError) {
    const declineCode = declineCodeOfIssues(issues);
    if (declineCode && providerPaymentId) {
      return {
        status: 'declined',
        providerPaymentId,
        code: 'card_declined',
        declineCode,
        message: maskCardNumbers(error.message),
      };
    }
    if (providerPaymentId && issues.some((issue) => STATE_ISSUES.has(issue))) return { status: 'read_back' };
    // INVALID_REQUEST, UNPROCESSABLE_ENTITY (DECIMAL_PRECISION, CURRENCY_NOT_SUPPORTED,
    // PAYEE_NOT_ENABLED_FOR_CARD_PROCESSING, ...), RESOURCE_NOT_FOUND: refused before acting.
    return { status: 'no_charge', reason: 'invalid_request', message: maskCardNumbers(error.message) };
  }
  // 5xx, 409, an unreadable answer, a reset or a deadline after the call was sent: it may have charged.
  return unknownOf(error, providerPaymentId);
}

/** The outcome of a failed refund call. */
export function refundFailure(error: unknown, nowMs: number): RefundOutcome {
  const noCharge = noChargeOf(error, nowMs);
  if (noCharge) return { status: 'no_charge', reason: noCharge.reason, message: noCharge.message };
  const issues = validationIssues(error);
  if (issues && error instanceof PayPalHttpError) {
    const code = issues.find((issue) => issue !== error.body?.name) ?? issues[0] ?? 'refund_failed';
    return { status: 'failed', code: code.toLowerCase(), message: maskCardNumbers(error.message) };
  }
  return { status: 'unknown', message: maskCardNumbers(`PayPal refund outcome unknown: ${describe(error)}`) };
}
