// Owns the request/response mapping between our provider interface and PayPal's Orders v2 / Payments
// v2 objects: the order and payment-source bodies we send, and the outcome an order, capture or
// refund stands for. The provider payment id is always the ORDER id; charges are captures (or the
// authorization while it waits for capture). A state this code does not recognise maps to `unknown`
// (pending), never to success; a PENDING capture is money that may still fail, so it is `unknown` too.
import { fromDecimalString, toDecimalString } from '../../money/currencies.js';
import { maskCardNumbers } from '../../pan.js';
import type {
  ChargeFacts,
  CreatePaymentRequest,
  PaymentOutcome,
  PaymentSource,
  RefundOutcome,
} from '../provider.js';
import type {
  PayPalAuthorization,
  PayPalCapture,
  PayPalCardSource,
  PayPalMoney,
  PayPalOrder,
  PayPalRefund,
} from './paypal.types.js';

/** PayPal's limit on purchase_units[].description. */
const DESCRIPTION_MAX = 127;

export function money(amount: number, currency: string): Required<PayPalMoney> {
  return { currency_code: currency.toUpperCase(), value: toDecimalString(amount, currency, 'paypal') };
}

/** A PayPal amount back in minor units; undefined when it is missing or unreadable. */
export function minorUnits(value: PayPalMoney | undefined): number | undefined {
  if (!value?.value || !value.currency_code) return undefined;
  try {
    return fromDecimalString(value.value, value.currency_code);
  } catch {
    return undefined;
  }
}

/** POST /v2/checkout/orders without a payment source: nothing is charged until we capture or authorize. */
export function createOrderBody(request: CreatePaymentRequest) {
  return {
    intent: request.captureMethod === 'manual' ? 'AUTHORIZE' : 'CAPTURE',
    purchase_units: [
      {
        reference_id: request.attemptId,
        custom_id: request.attemptId,
        invoice_id: request.paymentIntentId,
        amount: money(request.amount, request.currency),
        ...(request.description ? { description: request.description.slice(0, DESCRIPTION_MAX) } : {}),
      },
    ],
  };
}

function cancelUrlOf(returnUrl: string): string {
  return `${returnUrl}${returnUrl.includes('?') ? '&' : '?'}canceled=true`;
}

/** POST /v2/checkout/orders/:id/confirm-payment-source. Raw card data needs ACDC on the account. */
export function confirmSourceBody(
  source: Extract<PaymentSource, { kind: 'card' | 'redirect_wallet' }>,
  returnUrl: string | undefined,
  requestThreeDSecure = false,
) {
  const experience = returnUrl ? { return_url: returnUrl, cancel_url: cancelUrlOf(returnUrl) } : undefined;
  if (source.kind === 'redirect_wallet') {
    return {
      payment_source: {
        paypal: {
          experience_context: {
            ...experience,
            user_action: 'PAY_NOW',
            shipping_preference: 'NO_SHIPPING',
          },
        },
      },
    };
  }
  const { card } = source;
  return {
    payment_source: {
      card: {
        number: card.number,
        expiry: `${card.expYear}-${String(card.expMonth).padStart(2, '0')}`,
        ...(card.cvc ? { security_code: card.cvc } : {}),
        // 3DS when the issuer asks for it, or always when a fraud rule asks; the shopper comes back to
        // our return hop.
        attributes: { verification: { method: requestThreeDSecure ? 'SCA_ALWAYS' : 'SCA_WHEN_REQUIRED' } },
        ...(experience ? { experience_context: experience } : {}),
      },
    },
  };
}

/** PayPal's card brands in Stripe's spelling (what our charges carry). */
const BRANDS: Readonly<Record<string, string>> = {
  VISA: 'visa',
  MASTERCARD: 'mastercard',
  MASTER_CARD: 'mastercard',
  AMEX: 'amex',
  DISCOVER: 'discover',
  JCB: 'jcb',
  DINERS: 'diners',
  CHINA_UNION_PAY: 'unionpay',
  UNIONPAY: 'unionpay',
};

function cardFacts(card: PayPalCardSource | undefined): Pick<ChargeFacts, 'cardBrand' | 'cardLast4'> {
  if (!card) return {};
  const brand = card.brand ? (BRANDS[card.brand.toUpperCase()] ?? card.brand.toLowerCase()) : undefined;
  return {
    ...(brand ? { cardBrand: brand } : {}),
    ...(card.last_digits ? { cardLast4: card.last_digits } : {}),
  };
}

/**
 * PayPal processor response codes in Stripe's decline codes (Stripe-style, as our API speaks them).
 * Anything not listed is a generic decline.
 */
const DECLINE_CODES: Readonly<Record<string, string>> = {
  '0051': 'insufficient_funds',
  '5120': 'insufficient_funds',
  '0054': 'expired_card',
  '5400': 'expired_card',
  '1380': 'expired_card',
  '5110': 'incorrect_cvc',
  '1382': 'incorrect_cvc',
  '00N7': 'incorrect_cvc',
  PCVV: 'incorrect_cvc',
  // PayPal's DO_NOT_HONOR is what its sandbox answers for Stripe's generic-decline test card.
  '0500': 'generic_decline',
  '0005': 'do_not_honor',
  '5140': 'card_not_supported',
  '5150': 'pickup_card',
  '9500': 'fraudulent',
  '9510': 'fraudulent',
  '9520': 'lost_card',
  '5650': 'authentication_required',
  '5700': 'transaction_not_allowed',
  '0580': 'transaction_not_allowed',
  '0960': 'processing_error',
  '0800': 'processing_error',
  '0880': 'processing_error',
  '5910': 'processing_error',
  '5920': 'processing_error',
  '9600': 'processing_error',
  '8000': 'processing_error',
  '1330': 'invalid_account',
  '5180': 'invalid_account',
  '5100': 'generic_decline',
};

export function declineCodeOf(responseCode: string | undefined): string {
  return (responseCode && DECLINE_CODES[responseCode.toUpperCase()]) || 'generic_decline';
}

/** PayPal's 422 issues that are a card or payer refusal (a decline, never fallback), as decline codes. */
const DECLINE_ISSUES: Readonly<Record<string, string>> = {
  INSTRUMENT_DECLINED: 'generic_decline',
  TRANSACTION_REFUSED: 'generic_decline',
  PAYER_CANNOT_PAY: 'generic_decline',
  CARD_EXPIRED: 'expired_card',
  CARD_CLOSED: 'card_not_supported',
};

/** The decline code an issue list stands for, or undefined when none of the issues is a decline. */
export function declineCodeOfIssues(issues: readonly string[]): string | undefined {
  for (const issue of issues) {
    const code = DECLINE_ISSUES[issue] ?? (issue.startsWith('CARD_') ? 'generic_decline' : undefined);
    if (code) return code;
  }
  return undefined;
}

export function linkOf(order: PayPalOrder, ...rels: string[]): string | undefined {
  for (const rel of rels) {
    const href = order.links?.find((link) => link.rel === rel)?.href;
    if (href) return href;
  }
  return undefined;
}

function unit(order: PayPalOrder) {
  return order.purchase_units?.[0];
}

/** The latest capture of an order (PayPal lists them oldest first). */
export function latestCapture(order: PayPalOrder): PayPalCapture | undefined {
  const captures = unit(order)?.payments?.captures ?? [];
  return captures[captures.length - 1];
}

export function latestAuthorization(order: PayPalOrder): PayPalAuthorization | undefined {
  const authorizations = unit(order)?.payments?.authorizations ?? [];
  return authorizations[authorizations.length - 1];
}

function orderAmount(order: PayPalOrder): number | undefined {
  return minorUnits(unit(order)?.amount);
}

function unknown(providerPaymentId: string, message: string, unconfirmed = false): PaymentOutcome {
  return { status: 'unknown', providerPaymentId, message, ...(unconfirmed ? { unconfirmed } : {}) };
}

/** What one capture of an order stands for. `authorized` is the amount held when it was authorized. */
export function captureOutcome(
  orderId: string,
  capture: PayPalCapture,
  card: PayPalCardSource | undefined,
  authorized: number | undefined,
): PaymentOutcome {
  const captured = minorUnits(capture.amount);
  if (!capture.id || captured === undefined)
    return unknown(orderId, 'PayPal capture without an id or amount');
  const fee = minorUnits(capture.seller_receivable_breakdown?.paypal_fee);
  const facts: ChargeFacts = {
    providerChargeId: capture.id,
    amount: authorized ?? captured,
    amountCaptured: captured,
    ...(fee === undefined ? {} : { fee }),
    ...cardFacts(card),
  };
  switch (capture.status) {
    case 'COMPLETED':
    case 'PARTIALLY_REFUNDED':
    case 'REFUNDED':
      // Money was captured; refunds are the refund flow's to record.
      return { status: 'succeeded', providerPaymentId: orderId, charge: facts };
    case 'DECLINED':
    case 'FAILED': {
      const responseCode = capture.processor_response?.response_code;
      return {
        status: 'declined',
        providerPaymentId: orderId,
        code: 'card_declined',
        declineCode: declineCodeOf(responseCode),
        message: `PayPal declined the capture${responseCode ? ` (processor response ${responseCode})` : ''}`,
        charge: { ...facts, amountCaptured: 0 },
      };
    }
    default:
      // PENDING (eCheck, review, a receiving preference) or a status this code does not know.
      return unknown(
        orderId,
        `PayPal capture ${capture.id} is ${capture.status ?? 'without a status'}${
          capture.status_details?.reason ? ` (${capture.status_details.reason})` : ''
        }`,
      );
  }
}

function authorizationOutcome(
  order: PayPalOrder,
  orderId: string,
  authorization: PayPalAuthorization,
): PaymentOutcome {
  const amount = minorUnits(authorization.amount) ?? orderAmount(order);
  const card = cardFacts(order.payment_source?.card);
  switch (authorization.status) {
    case 'CREATED':
    case 'PARTIALLY_CAPTURED':
      if (!authorization.id || amount === undefined) break;
      return {
        status: 'requires_capture',
        providerPaymentId: orderId,
        charge: { providerChargeId: authorization.id, amount, amountCaptured: 0, ...card },
      };
    case 'VOIDED':
    case 'EXPIRED':
      // The hold was released (by us, or by time): nothing was taken.
      return { status: 'canceled', providerPaymentId: orderId };
    case 'DENIED': {
      const responseCode = authorization.processor_response?.response_code;
      return {
        status: 'declined',
        providerPaymentId: orderId,
        code: 'card_declined',
        declineCode: declineCodeOf(responseCode),
        message: `PayPal denied the authorization${responseCode ? ` (processor response ${responseCode})` : ''}`,
        ...(authorization.id && amount !== undefined
          ? { charge: { providerChargeId: authorization.id, amount, amountCaptured: 0, ...card } }
          : {}),
      };
    }
  }
  return unknown(orderId, `PayPal authorization is ${authorization.status ?? 'without a status'}`);
}

/** What an order stands for, read from the order itself (GET, or any call answering with it). */
export function orderOutcome(order: PayPalOrder, fallbackId: string): PaymentOutcome {
  const orderId = order.id ?? fallbackId;
  const capture = latestCapture(order);
  const authorization = latestAuthorization(order);
  if (capture) {
    const authorized = authorization ? minorUnits(authorization.amount) : undefined;
    return captureOutcome(orderId, capture, order.payment_source?.card, authorized ?? orderAmount(order));
  }
  if (authorization) return authorizationOutcome(order, orderId, authorization);
  switch (order.status) {
    case 'CREATED':
    case 'SAVED':
      // Never confirmed (or confirmed without approval yet): an order is charged only when we capture it.
      return unknown(orderId, `PayPal order is ${order.status}`, true);
    case 'PAYER_ACTION_REQUIRED': {
      const url = linkOf(order, 'payer-action', 'approve');
      if (url) return { status: 'requires_action', providerPaymentId: orderId, redirectUrl: url };
      break;
    }
    case 'APPROVED':
      // The shopper approved; nothing is charged until `complete` captures or authorizes it.
      return {
        status: 'requires_action',
        providerPaymentId: orderId,
        redirectUrl: linkOf(order, 'payer-action', 'approve') ?? '',
        approved: true,
      };
    case 'VOIDED':
      return { status: 'canceled', providerPaymentId: orderId };
  }
  return unknown(orderId, `PayPal order is ${order.status ?? 'without a status'}`);
}

export function refundOutcome(refund: PayPalRefund): RefundOutcome {
  if (!refund.id) return { status: 'unknown', message: 'PayPal refund without an id' };
  switch (refund.status) {
    case 'COMPLETED':
      return { status: 'succeeded', providerRefundId: refund.id };
    case 'CANCELLED':
    case 'FAILED':
      return {
        status: 'failed',
        providerRefundId: refund.id,
        code: `refund_${refund.status.toLowerCase()}`,
        message: maskCardNumbers(
          `PayPal refund ${refund.status}${refund.status_details?.reason ? `: ${refund.status_details.reason}` : ''}`,
        ),
      };
    default:
      // PENDING, or a status this code does not know: not final yet.
      return { status: 'pending', providerRefundId: refund.id };
  }
}
