// The payment method resource: parameters (zod) and the Stripe-shaped object. The object shows only
// what Stripe shows of a card: brand, last 4, expiry, fingerprint, funding, country, checks, networks.
import { z } from 'zod';
import { unixSeconds } from '../../clock.js';
import { listParams } from '../../http/pagination.js';
import { clearableText, email, integer, metadata, text } from '../../http/params.js';
import {
  type BillingAddress,
  type BillingDetails,
  type CardPaymentMethodRow,
  isCardRow,
  type PaymentMethodRow,
  type PayPalDetails,
} from './payment-methods.table.js';

const addressShape = {
  city: clearableText(200).optional(),
  country: clearableText(2).optional(),
  line1: clearableText(200).optional(),
  line2: clearableText(200).optional(),
  postal_code: clearableText(20).optional(),
  state: clearableText(200).optional(),
};

export const billingDetails = z.strictObject({
  address: z.union([z.literal('').transform(() => null), z.strictObject(addressShape)]).optional(),
  email: email().optional(),
  name: clearableText(256).optional(),
  phone: clearableText(40).optional(),
});

const allowRedisplay = z.enum(['always', 'limited', 'unspecified']);

export const createFields = {
  // A string first, so an absent type is parameter_missing rather than an invalid value.
  type: z.string().pipe(z.enum(['card', 'paypal'])),
  card: z
    .strictObject({
      number: text(64),
      exp_month: integer(),
      exp_year: integer(),
      cvc: text(8).optional(),
    })
    .optional(),
  billing_details: billingDetails.optional(),
  metadata: metadata().optional(),
  allow_redisplay: allowRedisplay.optional(),
};

export const updateFields = {
  card: z.strictObject({ exp_month: integer().optional(), exp_year: integer().optional() }).optional(),
  billing_details: billingDetails.optional(),
  metadata: metadata().optional(),
  allow_redisplay: allowRedisplay.optional(),
};

export const attachFields = { customer: text(255) };

export const listFilters = {
  ...listParams,
  // Required, as in Stripe; checked in the service so the 400 says parameter_missing with its name.
  customer: text(255).optional(),
  type: z.enum(['card', 'paypal']).optional(),
};

export type CreateInput = z.output<z.ZodObject<typeof createFields>>;
export type UpdateInput = z.output<z.ZodObject<typeof updateFields>>;
export type BillingInput = z.output<typeof billingDetails>;

const emptyAddress = (): BillingAddress => ({
  city: null,
  country: null,
  line1: null,
  line2: null,
  postal_code: null,
  state: null,
});

/** Applies given fields over the stored ones ("" clears a field, address "" clears the address). */
export function mergeBillingDetails(current: BillingDetails | undefined, input: BillingInput | undefined) {
  const base: BillingDetails = current ?? { address: emptyAddress(), email: null, name: null, phone: null };
  if (!input) return base;
  const address =
    input.address === undefined
      ? base.address
      : input.address === null
        ? emptyAddress()
        : {
            ...base.address,
            ...Object.fromEntries(Object.entries(input.address).filter(([, v]) => v !== undefined)),
          };
  return {
    address,
    email: input.email !== undefined ? input.email : base.email,
    name: input.name !== undefined ? input.name : base.name,
    phone: input.phone !== undefined ? input.phone : base.phone,
  };
}

/** Stripe's object: the type's own hash (`card` or `paypal`) beside the common fields. */
export function toPaymentMethodObject(row: PaymentMethodRow) {
  const common = {
    id: row.id,
    object: 'payment_method' as const,
    allow_redisplay: row.allow_redisplay,
    billing_details: { ...row.billing_details, tax_id: null },
    created: unixSeconds(row.created_at),
    customer: row.customer_id,
    customer_account: null,
    livemode: row.livemode,
    metadata: row.metadata,
    type: row.type,
  };
  type Shaped = typeof common & { card?: ReturnType<typeof cardHash>; paypal?: PayPalDetails };
  if (isCardRow(row)) return { ...common, card: cardHash(row) } as Shaped;
  return { ...common, paypal: row.paypal ?? { country: null, payer_email: null, payer_id: null } } as Shaped;
}

function cardHash(row: CardPaymentMethodRow) {
  const brand = row.card_brand;
  return {
    brand,
    checks: {
      address_line1_check: row.card_address_line1_check,
      address_postal_code_check: row.card_address_postal_code_check,
      cvc_check: row.card_cvc_check,
    },
    country: row.card_country,
    display_brand: displayBrand(brand),
    exp_month: row.card_exp_month,
    exp_year: row.card_exp_year,
    fingerprint: row.card_fingerprint,
    funding: row.card_funding,
    generated_from: null,
    last4: row.card_last4,
    networks: { available: [brand], preferred: null },
    regulated_status: null,
    three_d_secure_usage: { supported: true },
    wallet: null,
  };
}

const DISPLAY: Record<string, string> = {
  amex: 'american_express',
  diners: 'diners_club',
  unionpay: 'union_pay',
};

function displayBrand(brand: string): string {
  return DISPLAY[brand] ?? brand;
}

/** Address checks are "unchecked" until a processor has seen them, null when nothing was given. */
export function addressChecks(details: BillingDetails) {
  return {
    card_address_line1_check: details.address.line1 ? 'unchecked' : null,
    card_address_postal_code_check: details.address.postal_code ? 'unchecked' : null,
  };
}

export type PaymentMethodObject = ReturnType<typeof toPaymentMethodObject>;
