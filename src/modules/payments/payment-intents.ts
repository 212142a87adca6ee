// The payment intent resource: its parameters (zod, the single source for validation and OpenAPI) and
// the Stripe-shaped object rendered from a row. Amount rules per currency are checked in the service,
// where the currency is known, so each refusal names the parameter it is about.
import { z } from 'zod';
import { unixSeconds } from '../../clock.js';
import { ipAddressParam } from '../../http/client-address.js';
import { listParams } from '../../http/pagination.js';
import { boolean, clearableText, email, integer, metadata, text } from '../../http/params.js';
import { billingDetails } from '../payment-methods/payment-methods.js';
import type { PaymentIntentRow, StoredNextAction } from './payments.table.js';

export const PAYMENT_METHOD_TYPES = ['card', 'paypal', 'wallet'] as const;

const captureMethod = z.enum(['automatic', 'automatic_async', 'manual']);
const currency = z
  .string()
  .regex(/^[A-Za-z]{3}$/, { message: 'must be a three-letter ISO 4217 currency code' })
  .transform((code) => code.toLowerCase());
const methodTypes = z.array(text(64)).max(20);
const url = text(2048).refine((value) => /^https?:\/\/[^\s]+$/.test(value), {
  message: 'must be an absolute http(s) URL',
});

/** A payment method made with the intent (Stripe's payment_method_data); PayPal's needs nothing else. */
const paymentMethodData = z.strictObject({
  type: z.string().pipe(z.enum(['paypal'])),
  billing_details: billingDetails.optional(),
  metadata: metadata().optional(),
});

export type PaymentMethodData = z.output<typeof paymentMethodData>;

/** Stripe parameters we accept and store but do not act on yet (DESIGN section 4). */
const storedOnly = {
  receipt_email: email().optional(),
  shipping: z.union([z.literal('').transform(() => null), z.record(z.string(), z.unknown())]).optional(),
  setup_future_usage: z.union([z.literal(''), z.enum(['on_session', 'off_session'])]).optional(),
  off_session: z.union([boolean(), z.enum(['one_off', 'recurring'])]).optional(),
  statement_descriptor: clearableText(22).optional(),
  statement_descriptor_suffix: clearableText(22).optional(),
  radar_options: z.record(z.string(), z.unknown()).optional(),
  payment_method_options: z.record(z.string(), z.unknown()).optional(),
};
/**
 * The shopper's IP address as the merchant's checkout saw it (issue 9: never the merchant server's own
 * address). Read by the fraud rules through `shopperIpOf`; kept in `extra` with the stored fields.
 */
const shopperIp = z.union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address' });
const shopperFields = { shopper_ip: shopperIp.optional() };

export const STORED_ONLY_FIELDS = [...Object.keys(storedOnly), 'shopper_ip'];

export const createFields = {
  amount: integer("an integer amount in the currency's minor unit"),
  currency,
  customer: text(255).optional(),
  payment_method: text(255).optional(),
  payment_method_data: paymentMethodData.optional(),
  payment_method_types: methodTypes.optional(),
  allowed_payment_method_types: methodTypes.optional(),
  automatic_payment_methods: z
    .strictObject({ enabled: boolean(), allow_redirects: z.enum(['always', 'never']).optional() })
    .optional(),
  capture_method: captureMethod.optional(),
  confirmation_method: z.enum(['automatic', 'manual']).optional(),
  confirm: boolean().optional(),
  description: clearableText(1000).optional(),
  metadata: metadata().optional(),
  return_url: url.optional(),
  /**
   * The shopper's own address as the merchant's server saw it (not Stripe's: Stripe reads it from its
   * own Elements). Per-shopper limits and the fraud rules read it from payment_intents.shopper_ip.
   */
  shopper_ip: ipAddressParam().optional(),
  ...storedOnly,
};

export const updateFields = {
  amount: integer("an integer amount in the currency's minor unit").optional(),
  currency: currency.optional(),
  customer: text(255).optional(),
  payment_method: text(255).optional(),
  payment_method_types: methodTypes.optional(),
  capture_method: captureMethod.optional(),
  description: clearableText(1000).optional(),
  metadata: metadata().optional(),
  ...storedOnly,
  ...shopperFields,
};

export const confirmFields = {
  payment_method: text(255).optional(),
  payment_method_data: paymentMethodData.optional(),
  return_url: url.optional(),
  capture_method: captureMethod.optional(),
  ...storedOnly,
  ...shopperFields,
};

export const captureFields = {
  amount_to_capture: integer("an integer amount in the currency's minor unit").optional(),
  metadata: metadata().optional(),
  statement_descriptor: clearableText(22).optional(),
  statement_descriptor_suffix: clearableText(22).optional(),
};

export const cancelFields = {
  cancellation_reason: z.enum(['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned']).optional(),
};

export const listFilters = {
  ...listParams,
  customer: text(255).optional(),
};

export const searchFields = {
  query: text(1000),
  limit: listParams.limit,
  // The next_page a previous search answered (an offset); anything else would silently restart.
  page: text(255)
    .regex(/^\d{1,9}$/, { message: 'must be the next_page of a previous search' })
    .optional(),
};

export type CreateInput = z.output<z.ZodObject<typeof createFields>>;
export type UpdateInput = z.output<z.ZodObject<typeof updateFields>>;
export type ConfirmInput = z.output<z.ZodObject<typeof confirmFields>>;
export type CaptureInput = z.output<z.ZodObject<typeof captureFields>>;
export type CancelInput = z.output<z.ZodObject<typeof cancelFields>>;

function nextActionOf(stored: StoredNextAction | null) {
  return stored ? { type: stored.type, redirect_to_url: stored.redirect_to_url } : null;
}

export function toPaymentIntentObject(row: PaymentIntentRow) {
  const extra = row.extra as Record<string, unknown>;
  const error = row.last_payment_error;
  return {
    id: row.id,
    object: 'payment_intent' as const,
    amount: row.amount,
    amount_capturable: row.amount_capturable,
    amount_details: { tip: {} },
    amount_received: row.amount_received,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: row.automatic_payment_methods,
    canceled_at: row.canceled_at ? unixSeconds(row.canceled_at) : null,
    cancellation_reason: row.cancellation_reason,
    capture_method: row.capture_method,
    client_secret: row.client_secret,
    confirmation_method: (extra.confirmation_method as 'automatic' | 'manual' | undefined) ?? 'automatic',
    created: unixSeconds(row.created_at),
    currency: row.currency,
    customer: row.customer_id,
    description: row.description,
    last_payment_error: error
      ? {
          type: error.type,
          code: error.code,
          ...(error.decline_code ? { decline_code: error.decline_code } : {}),
          message: error.message,
          ...(error.charge ? { charge: error.charge } : {}),
          payment_method: null as unknown,
        }
      : null,
    latest_charge: row.latest_charge_id as string | null | Record<string, unknown>,
    livemode: row.livemode,
    metadata: row.metadata,
    next_action: nextActionOf(row.next_action),
    on_behalf_of: null,
    payment_method: row.payment_method_id as string | null | Record<string, unknown>,
    payment_method_configuration_details: null,
    payment_method_options: (extra.payment_method_options as Record<string, unknown> | undefined) ?? {},
    payment_method_types: row.payment_method_types,
    processing: row.status === 'processing' ? { type: 'card' as const } : null,
    receipt_email: (extra.receipt_email as string | null | undefined) ?? null,
    review: row.fraud_outcome?.review ?? null,
    setup_future_usage: (extra.setup_future_usage as string | null | undefined) || null,
    shipping: (extra.shipping as Record<string, unknown> | null | undefined) ?? null,
    source: null,
    statement_descriptor: (extra.statement_descriptor as string | null | undefined) ?? null,
    statement_descriptor_suffix: (extra.statement_descriptor_suffix as string | null | undefined) ?? null,
    status: row.status,
    transfer_data: null,
    transfer_group: null,
    excluded_payment_method_types: null,
    customer_account: null,
    managed_payments: { enabled: false },
  };
}

export type PaymentIntentObject = ReturnType<typeof toPaymentIntentObject>;
