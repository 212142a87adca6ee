// The customer resource: create/update parameters (zod) and the Stripe-shaped object.
import { z } from 'zod';
import { unixSeconds } from '../../clock.js';
import { clearableText, email, metadata, text } from '../../http/params.js';
import type { Address, CustomerRow, Shipping } from './customers.table.js';

const addressShape = {
  city: clearableText(200).optional(),
  country: clearableText(2).optional(),
  line1: clearableText(200).optional(),
  line2: clearableText(200).optional(),
  postal_code: clearableText(20).optional(),
  state: clearableText(200).optional(),
};

const address = z.union([z.literal('').transform(() => null), z.strictObject(addressShape)]);

const shipping = z.union([
  z.literal('').transform(() => null),
  z.strictObject({
    address: z.strictObject(addressShape),
    name: text(200).min(1, { message: 'is required' }),
    phone: clearableText(40).optional(),
  }),
]);

const locales = z.union([z.literal('').transform(() => [] as string[]), z.array(text(20)).max(10)]);

export const customerFields = {
  email: email().optional(),
  name: clearableText(256).optional(),
  phone: clearableText(40).optional(),
  description: clearableText(350).optional(),
  metadata: metadata().optional(),
  address: address.optional(),
  shipping: shipping.optional(),
  preferred_locales: locales.optional(),
  tax_exempt: z.enum(['none', 'exempt', 'reverse']).optional(),
};

export const customerListFilters = {
  email: text(512).optional(),
};

export type CustomerInput = z.output<z.ZodObject<typeof customerFields>>;

function normalizeAddress(input: Partial<Record<keyof Address, string | null | undefined>>): Address {
  return {
    city: input.city ?? null,
    country: input.country ?? null,
    line1: input.line1 ?? null,
    line2: input.line2 ?? null,
    postal_code: input.postal_code ?? null,
    state: input.state ?? null,
  };
}

export function toStoredAddress(input: CustomerInput['address']): Address | null | undefined {
  if (input === undefined) return undefined;
  return input === null ? null : normalizeAddress(input);
}

export function toStoredShipping(input: CustomerInput['shipping']): Shipping | null | undefined {
  if (input === undefined) return undefined;
  if (input === null) return null;
  return { address: normalizeAddress(input.address), name: input.name, phone: input.phone ?? null };
}

export interface DeletedCustomer {
  id: string;
  object: 'customer';
  deleted: true;
}

export function toCustomerObject(row: CustomerRow) {
  return {
    id: row.id,
    object: 'customer' as const,
    address: row.address,
    balance: 0,
    created: unixSeconds(row.created_at),
    currency: null,
    default_source: null,
    delinquent: false,
    description: row.description,
    discount: null,
    email: row.email,
    invoice_prefix: row.invoice_prefix,
    invoice_settings: {
      custom_fields: null,
      default_payment_method: null,
      footer: null,
      rendering_options: null,
    },
    livemode: row.livemode,
    metadata: row.metadata,
    name: row.name,
    next_invoice_sequence: 1,
    phone: row.phone,
    preferred_locales: row.preferred_locales,
    shipping: row.shipping,
    tax_exempt: row.tax_exempt,
    test_clock: null,
  };
}

export type CustomerObject = ReturnType<typeof toCustomerObject>;
