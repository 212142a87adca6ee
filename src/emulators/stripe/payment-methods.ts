// Owns making payment methods: from raw card details (validated as Stripe does) or from Stripe's
// `pm_card_*` test ids, each use of which makes a fresh payment method, as in Stripe test mode.
import { checkCard, type RawCard, TEST_PAYMENT_METHODS } from './cards.js';
import { invalidRequest } from './errors.js';
import { mergeMetadata, Params } from './params.js';
import type { PaymentMethodRecord } from './records.js';
import { emptyBillingDetails } from './render-payments.js';
import type { Ctx, StripeStore } from './store.js';

export const CARD_PARAMS = ['number', 'exp_month', 'exp_year', 'cvc', 'networks'] as const;
const BILLING_PARAMS = ['address', 'email', 'name', 'phone', 'tax_id'] as const;
const ADDRESS_PARAMS = ['city', 'country', 'line1', 'line2', 'postal_code', 'state'] as const;

export function billingDetails(params: Params | undefined, current: unknown = emptyBillingDetails()) {
  const base = current as ReturnType<typeof emptyBillingDetails>;
  if (!params) return base;
  const address = params.object('address', ADDRESS_PARAMS);
  const details = { ...base, address: { ...base.address } } as Record<string, unknown> & {
    address: Record<string, unknown>;
  };
  for (const field of ['email', 'name', 'phone', 'tax_id'] as const) {
    const value = params.clearable(field);
    if (value !== undefined) details[field] = value;
  }
  for (const field of ADDRESS_PARAMS) {
    const value = address?.clearable(field);
    if (value !== undefined) details.address[field] = value;
  }
  return details;
}

/** Reads `card[...]` (or `payment_method_data[card][...]`) and makes a payment method from it. */
export function paymentMethodFromParams(store: StripeStore, ctx: Ctx, params: Params): PaymentMethodRecord {
  const type = params.string('type', { required: true });
  if (type !== 'card') {
    throw invalidRequest(
      `Invalid type: this emulator supports payment methods of type card only (got ${type}).`,
      'parameter_invalid_string',
      params.name('type'),
    );
  }
  const card = params.object('card', CARD_PARAMS);
  if (!card) throw invalidRequest('Missing required param: card.', 'parameter_missing', params.name('card'));
  const raw: RawCard = {
    number: card.string('number', { required: true })!,
    exp_month: card.integer('exp_month', { required: true })!,
    exp_year: card.integer('exp_year', { required: true })!,
    cvc: card.string('cvc'),
  };
  const { details, scenario } = checkCard(raw, new Date(ctx.now * 1000));
  return store.insert<PaymentMethodRecord>({
    object: 'payment_method',
    id: store.newId('payment_method'),
    account: ctx.account,
    created: ctx.now,
    card: details,
    scenario,
    billing_details: billingDetails(params.object('billing_details', BILLING_PARAMS)),
    customer: null,
    metadata: mergeMetadata({}, params.metadata()),
  });
}

export function isTestPaymentMethod(id: string): boolean {
  return Object.hasOwn(TEST_PAYMENT_METHODS, id);
}

function fromTestId(store: StripeStore, ctx: Ctx, id: string): PaymentMethodRecord {
  const year = new Date(ctx.now * 1000).getUTCFullYear() + 3;
  const { details, scenario } = checkCard(
    { number: TEST_PAYMENT_METHODS[id]!, exp_month: 12, exp_year: year, cvc: undefined },
    new Date(ctx.now * 1000),
  );
  return store.insert<PaymentMethodRecord>({
    object: 'payment_method',
    id: store.newId('payment_method'),
    account: ctx.account,
    created: ctx.now,
    card: { ...details, cvc_check: 'pass' },
    scenario,
    billing_details: emptyBillingDetails(),
    customer: null,
    metadata: {},
  });
}

/** The payment method named by `id` for this account: a stored one, or a fresh one for a test id. */
export function resolvePaymentMethod(
  store: StripeStore,
  ctx: Ctx,
  id: string,
  param = 'payment_method',
): PaymentMethodRecord {
  if (isTestPaymentMethod(id)) return fromTestId(store, ctx, id);
  return store.owned('payment_method', ctx.account, id, param);
}

export function parsePaymentMethodData(
  raw: unknown,
  store: StripeStore,
  ctx: Ctx,
): PaymentMethodRecord | undefined {
  if (raw === undefined) return undefined;
  const params = new Params({ payment_method_data: raw }, ['payment_method_data']).object(
    'payment_method_data',
    ['type', 'card', 'billing_details', 'metadata'],
  );
  return params ? paymentMethodFromParams(store, ctx, params) : undefined;
}
