// Owns the request/response mapping between our provider interface and Stripe's objects: the create
// and confirm parameters we send, and the outcome a PaymentIntent, Refund or Event stands for. A
// status we do not recognise maps to `unknown` (pending), never to success.
import type Stripe from 'stripe';
import type {
  ChargeFacts,
  CreatePaymentRequest,
  PaymentOutcome,
  PaymentSource,
  ProviderEvent,
  RefundOutcome,
} from '../provider.js';

/**
 * Provider messages end up in our logs and API errors; a digit run as long as a card number is masked
 * in case a provider ever echoes one back (invariant 6).
 */
export function maskCardNumbers(text: string): string {
  return text.replace(/\d(?:[ -]?\d){11,18}/g, '[card number]');
}

/** Asked on confirm and retrieve so the fee comes back with the charge in one call. */
export const CHARGE_EXPAND = ['latest_charge.balance_transaction'];

export const METADATA_ATTEMPT = 'payment_attempt_id';
export const METADATA_PAYMENT_INTENT = 'payment_intent_id';
export const METADATA_MERCHANT = 'merchant_id';

export function createParams(request: CreatePaymentRequest): Stripe.PaymentIntentCreateParams {
  return {
    amount: request.amount,
    currency: request.currency.toLowerCase(),
    // `automatic` (not Stripe's default automatic_async) so the fee is known when confirm answers.
    capture_method: request.captureMethod === 'manual' ? 'manual' : 'automatic',
    // No payment method types: the API renamed them (allowed_payment_method_types) across versions and
    // confirm names the card anyway; the default (automatic) lets the card through on every version.
    ...(request.description ? { description: request.description } : {}),
    metadata: {
      [METADATA_ATTEMPT]: request.attemptId,
      [METADATA_PAYMENT_INTENT]: request.paymentIntentId,
      [METADATA_MERCHANT]: request.merchantId,
    },
  };
}

/**
 * Raw card data goes as payment_method_data[card][...]: real Stripe accepts it only on accounts with
 * raw-card-data access (DESIGN section 6). The SDK's types leave `card` out for that reason.
 */
export function confirmParams(
  source: Extract<PaymentSource, { kind: 'card' | 'provider_token' }>,
  returnUrl: string | undefined,
  requestThreeDSecure = false,
): Stripe.PaymentIntentConfirmParams {
  const base: Stripe.PaymentIntentConfirmParams = {
    expand: CHARGE_EXPAND,
    ...(returnUrl ? { return_url: returnUrl } : {}),
    ...(requestThreeDSecure ? { payment_method_options: { card: { request_three_d_secure: 'any' } } } : {}),
  };
  if (source.kind === 'provider_token') return { ...base, payment_method: source.token };
  const { card } = source;
  const paymentMethodData = {
    type: 'card',
    card: {
      number: card.number,
      exp_month: card.expMonth,
      exp_year: card.expYear,
      ...(card.cvc ? { cvc: card.cvc } : {}),
    },
  } as unknown as Stripe.PaymentIntentConfirmParams.PaymentMethodData;
  return { ...base, payment_method_data: paymentMethodData };
}

function cardOf(charge: Stripe.Charge | null, paymentMethod?: Stripe.PaymentMethod | null) {
  const card = charge?.payment_method_details?.card ?? paymentMethod?.card ?? null;
  return card ? { cardBrand: card.brand ?? undefined, cardLast4: card.last4 ?? undefined } : {};
}

function feeOf(charge: Stripe.Charge): number | undefined {
  const bt = charge.balance_transaction;
  return bt && typeof bt === 'object' ? bt.fee : undefined;
}

/** What we know about the charge behind a payment intent (expanded or only its id). */
export function chargeFacts(pi: Stripe.PaymentIntent): ChargeFacts | undefined {
  const latest = pi.latest_charge;
  if (!latest) return undefined;
  if (typeof latest === 'string') {
    return { providerChargeId: latest, amount: pi.amount, amountCaptured: pi.amount_received };
  }
  return {
    providerChargeId: latest.id,
    amount: latest.amount,
    amountCaptured: latest.amount_captured,
    fee: feeOf(latest),
    ...cardOf(latest),
  };
}

/** The failed charge a card error names, when the decline reached a processor. */
export function chargeFromDecline(
  chargeId: string | undefined,
  pi: Stripe.PaymentIntent | undefined,
  paymentMethod: Stripe.PaymentMethod | undefined,
): ChargeFacts | undefined {
  const id = chargeId ?? (typeof pi?.latest_charge === 'string' ? pi.latest_charge : pi?.latest_charge?.id);
  if (!id) return undefined;
  return { providerChargeId: id, amount: pi?.amount ?? 0, amountCaptured: 0, ...cardOf(null, paymentMethod) };
}

export function toPaymentOutcome(pi: Stripe.PaymentIntent): PaymentOutcome {
  const providerPaymentId = pi.id;
  const charge = chargeFacts(pi);
  switch (pi.status) {
    case 'succeeded':
      if (charge) return { status: 'succeeded', providerPaymentId, charge };
      break;
    case 'requires_capture':
      if (charge) return { status: 'requires_capture', providerPaymentId, charge };
      break;
    case 'requires_action': {
      const url = pi.next_action?.redirect_to_url?.url;
      if (url) return { status: 'requires_action', providerPaymentId, redirectUrl: url };
      break;
    }
    case 'requires_payment_method': {
      const error = pi.last_payment_error;
      if (error) {
        return {
          status: 'declined',
          providerPaymentId,
          code: error.code ?? 'card_declined',
          declineCode: error.decline_code ?? undefined,
          message: maskCardNumbers(error.message ?? 'The payment was declined.'),
          charge: charge ? { ...charge, amountCaptured: 0 } : undefined,
        };
      }
      break;
    }
    case 'canceled':
      return { status: 'canceled', providerPaymentId };
  }
  // processing, requires_confirmation, an unconfirmed intent, or a state this code does not know.
  const unconfirmed =
    pi.status === 'requires_confirmation' ||
    (pi.status === 'requires_payment_method' && !pi.last_payment_error);
  return {
    status: 'unknown',
    providerPaymentId,
    message: `Stripe payment intent is ${pi.status}`,
    unconfirmed,
  };
}

export function toRefundOutcome(refund: Stripe.Refund): RefundOutcome {
  switch (refund.status) {
    case 'succeeded':
      return { status: 'succeeded', providerRefundId: refund.id };
    case 'failed':
    case 'canceled':
      return {
        status: 'failed',
        providerRefundId: refund.id,
        code: refund.failure_reason ?? `refund_${refund.status}`,
        message: `Stripe refund ${refund.status}${refund.failure_reason ? `: ${refund.failure_reason}` : ''}`,
      };
    default:
      // pending, requires_action, or a status this code does not know: not final yet.
      return { status: 'pending', providerRefundId: refund.id };
  }
}

/** The payment intent an event is about: the object itself, or the one a charge/refund/dispute names. */
function paymentIdOf(object: unknown): string | undefined {
  if (!object || typeof object !== 'object') return undefined;
  const record = object as { object?: unknown; id?: unknown; payment_intent?: unknown };
  if (record.object === 'payment_intent' && typeof record.id === 'string') return record.id;
  const named = record.payment_intent;
  if (typeof named === 'string') return named;
  if (named && typeof named === 'object' && typeof (named as { id?: unknown }).id === 'string') {
    return (named as { id: string }).id;
  }
  return undefined;
}

export function toProviderEvent(event: Stripe.Event): ProviderEvent {
  return {
    providerEventId: event.id,
    type: event.type,
    providerPaymentId: paymentIdOf(event.data?.object),
    occurredAt: new Date(event.created * 1000),
    payload: event,
  };
}
