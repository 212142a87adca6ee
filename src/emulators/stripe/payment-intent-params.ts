// Owns the parameters payment intent requests share (which are accepted, which are stored as given,
// which statuses allow what) and turning an attempt's outcome into Stripe's answer.
import { StripeApiError, type StripeErrorBody } from './errors.js';
import type { RouteInput } from './http.js';
import type { Params } from './params.js';
import { parsePaymentMethodData, resolvePaymentMethod } from './payment-methods.js';
import { confirmIntent, type Outcome } from './processor.js';
import type { PaymentIntentRecord } from './records.js';
import { renderPaymentIntent } from './render-payments.js';
import type { Ctx, StripeStore } from './store.js';

export const CAPTURE_METHODS = ['automatic', 'automatic_async', 'manual'] as const;
/** Accepted and stored as given; the emulator does not act on them. */
const STORED = [
  'receipt_email',
  'setup_future_usage',
  'shipping',
  'statement_descriptor',
  'statement_descriptor_suffix',
  'transfer_group',
  'payment_method_options',
] as const;
const IGNORED = [
  'use_stripe_sdk',
  'mandate_data',
  'radar_options',
  'payment_method_configuration',
  'mandate',
] as const;
export const CONFIRM_PARAMS = [
  'payment_method',
  'payment_method_data',
  'return_url',
  'off_session',
  'error_on_requires_action',
  'capture_method',
  ...STORED,
  ...IGNORED,
];
export const CREATE_PARAMS = [
  'amount',
  'currency',
  'automatic_payment_methods',
  'confirm',
  'confirmation_method',
  'customer',
  'description',
  'metadata',
  'payment_method_types',
  ...CONFIRM_PARAMS,
];
export const UPDATE_PARAMS = [
  'amount',
  'currency',
  'capture_method',
  'customer',
  'description',
  'metadata',
  'payment_method',
  'payment_method_data',
  'payment_method_types',
  ...STORED,
];
export const UPDATABLE = new Set(['requires_payment_method', 'requires_confirmation', 'requires_action']);
export const CONFIRMABLE = new Set(['requires_payment_method', 'requires_confirmation', 'requires_action']);

export function storedExtras(params: Params, current: Record<string, unknown>): Record<string, unknown> {
  const extra = { ...current };
  for (const key of STORED) if (params.has(key)) extra[key] = params.passthrough(key);
  return extra;
}

export function paymentMethodTypes(params: Params): string[] | undefined {
  const types = params.stringArray('payment_method_types');
  const unsupported = types?.find((type) => type !== 'card');
  if (unsupported) {
    throw new StripeApiError(400, {
      type: 'invalid_request_error',
      code: 'payment_intent_invalid_parameter',
      param: 'payment_method_types',
      message: `The payment method type "${unsupported}" is invalid. This emulator supports card payments only.`,
    });
  }
  return types;
}

/** Applies payment_method / payment_method_data, making test or raw-card payment methods as needed. */
export function chosenPaymentMethod(store: StripeStore, ctx: Ctx, params: Params): string | undefined {
  const fromData = parsePaymentMethodData(params.raw['payment_method_data'], store, ctx);
  if (fromData) return fromData.id;
  const id = params.string('payment_method');
  return id ? resolvePaymentMethod(store, ctx, id).id : undefined;
}

function answer(outcome: Outcome) {
  if (outcome.failure) {
    const body: StripeErrorBody = { ...outcome.failure, payment_intent: renderPaymentIntent(outcome.pi) };
    throw new StripeApiError(outcome.failure.type === 'card_error' ? 402 : 400, body, true);
  }
  return { record: outcome.pi };
}

export function confirmWith(
  input: RouteInput,
  store: StripeStore,
  baseUrl: () => string,
  pi: PaymentIntentRecord,
  params: Params,
) {
  return answer(
    confirmIntent(store, input.ctx, pi, {
      baseUrl: baseUrl(),
      offSession: params.boolean('off_session') ?? false,
      errorOnRequiresAction: params.boolean('error_on_requires_action') ?? false,
    }),
  );
}
