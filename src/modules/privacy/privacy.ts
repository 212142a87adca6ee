// What a privacy erasure removes from a stored document, and how the customer's own strings are found
// in text it keeps. Two passes over any JSON we hold about the customer (rows, event snapshots, stored
// idempotent answers):
//   1. by field: the fields that are personal by definition are cleared wherever they appear
//      (billing_details, shipping, receipt_email, a PayPal payer, a customer's contact fields, the
//      personal dispute evidence fields, descriptions of payments and charges);
//   2. by value: any other string containing one of the customer's identifiers (email, name, phone as
//      they were ever stored) becomes `[erased]`, so metadata such as `{buyer: "Jenny Rosen"}` goes too
//      while `{order: "1234"}` stays for the merchant's reconciliation.
// Amounts, currencies, statuses, ids, card brand / last 4 / expiry / fingerprint are never touched.
import type { z } from 'zod';
import { boundedInteger, text } from '../../http/params.js';

export const ERASED = '[erased]';

/** Identifiers shorter than this are not matched inside other text (too many false hits). */
const MIN_IDENTIFIER_LENGTH = 4;

/** Keys whose value is the customer's contact data, wherever they appear. */
const IDENTIFIER_KEYS = new Set([
  'email',
  'name',
  'phone',
  'receipt_email',
  'payer_email',
  'customer_name',
  'customer_email_address',
]);

/** Stripe's dispute evidence fields that are the cardholder's personal data. */
export const PERSONAL_EVIDENCE_FIELDS = [
  'customer_name',
  'customer_email_address',
  'customer_purchase_ip',
  'billing_address',
  'shipping_address',
] as const;

/** The customer object's personal fields and what they become. */
const CUSTOMER_CLEARED: Record<string, unknown> = {
  email: null,
  name: null,
  phone: null,
  description: null,
  address: null,
  shipping: null,
  metadata: {},
  preferred_locales: [],
};

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** The customer's identifying strings, gathered from everything stored about them before it is cleared. */
export class Identifiers {
  private readonly values = new Set<string>();

  add(value: unknown): void {
    if (typeof value !== 'string') return;
    const normalized = value.trim().toLowerCase();
    if (normalized.length >= MIN_IDENTIFIER_LENGTH) this.values.add(normalized);
  }

  /** Collects every identifier-like field (email, name, phone, ...) at any depth of `document`. */
  gather(document: unknown): void {
    if (Array.isArray(document)) {
      for (const item of document) this.gather(item);
      return;
    }
    if (!isObject(document)) return;
    for (const [key, value] of Object.entries(document)) {
      if (IDENTIFIER_KEYS.has(key)) this.add(value);
      else this.gather(value);
    }
  }

  matches(text: string): boolean {
    const lower = text.toLowerCase();
    for (const value of this.values) if (lower.includes(value)) return true;
    return false;
  }

  get size(): number {
    return this.values.size;
  }
}

function blankAddress(address: unknown): unknown {
  if (!isObject(address)) return null;
  return Object.fromEntries(Object.keys(address).map((key) => [key, null]));
}

/** billing_details with every field null, keeping its shape (Stripe's objects always carry the keys). */
export function blankBillingDetails(details: unknown): unknown {
  if (!isObject(details)) return details;
  return Object.fromEntries(
    Object.entries(details).map(([key, value]) => [key, key === 'address' ? blankAddress(value) : null]),
  );
}

function blankPayPal(paypal: Json, ids: Identifiers): Json {
  const out = scrubObject(paypal, ids, undefined);
  for (const key of ['payer_email', 'payer_id', 'payer_name']) if (key in out) out[key] = null;
  return out;
}

/** Dispute evidence without its personal fields; what remains gets the value pass. */
export function scrubEvidence(evidence: unknown, ids: Identifiers, keep: 'keys' | 'drop'): unknown {
  if (!isObject(evidence)) return evidence;
  const out = scrubObject(evidence, ids, undefined);
  for (const field of PERSONAL_EVIDENCE_FIELDS) {
    if (!(field in out)) continue;
    if (keep === 'keys') out[field] = null;
    else delete out[field];
  }
  return out;
}

function scrubObject(document: Json, ids: Identifiers, kind: string | undefined): Json {
  const type = typeof document.object === 'string' ? document.object : kind;
  const out: Json = {};
  for (const [key, value] of Object.entries(document)) {
    if (type === 'customer' && key in CUSTOMER_CLEARED) out[key] = CUSTOMER_CLEARED[key];
    else if (key === 'billing_details') out[key] = blankBillingDetails(value);
    else if (key === 'shipping' || key === 'receipt_email') out[key] = null;
    else if (key === 'description' && (type === 'payment_intent' || type === 'charge')) out[key] = null;
    else if (key === 'metadata' && type === 'payment_method') out[key] = {};
    else if (key === 'paypal' && isObject(value)) out[key] = blankPayPal(value, ids);
    else if (key === 'evidence' && type === 'dispute') out[key] = scrubEvidence(value, ids, 'keys');
    else out[key] = scrub(value, ids);
  }
  return out;
}

/**
 * `document` with the customer's personal data removed (both passes). `kind` names the object type
 * when the document does not say (an event's previous_attributes is part of a `data.object`'s type).
 */
export function scrub(document: unknown, ids: Identifiers, kind?: string): unknown {
  if (typeof document === 'string') return ids.matches(document) ? ERASED : document;
  if (Array.isArray(document)) return document.map((item) => scrub(item, ids));
  if (isObject(document)) return scrubObject(document, ids, kind);
  return document;
}

/** An event's stored data: the object snapshot and the old values of what changed, of the same type. */
export function scrubEventData(data: unknown, ids: Identifiers): unknown {
  if (!isObject(data)) return scrub(data, ids);
  const object = data.object;
  const kind = isObject(object) && typeof object.object === 'string' ? object.object : undefined;
  return Object.fromEntries(
    Object.entries(data).map(([key, value]) => [
      key,
      key === 'previous_attributes' ? scrub(value, ids, kind) : scrub(value, ids),
    ]),
  );
}

/** Whether a scrub changed anything (so unchanged rows are not rewritten). */
export const changed = (before: unknown, after: unknown) => JSON.stringify(before) !== JSON.stringify(after);

export const DEFAULT_EXPORT_LIMIT = 100;
export const MAX_EXPORT_LIMIT = 1000;

export const exportFields = {
  /** Most objects of each kind in the answer (newest first); each list says `has_more` when capped. */
  limit: boundedInteger(1, MAX_EXPORT_LIMIT).optional(),
};
export type ExportInput = z.output<z.ZodObject<typeof exportFields>>;

/** What an erasure did, as its audit row and payctl report it (counts and ids, no personal data). */
export interface ErasureReport {
  object: 'privacy_erasure';
  customer: string;
  merchant: string;
  livemode: boolean;
  /** False when the customer had been erased before: nothing was changed this time. */
  erased_now: boolean;
  erased_at: number;
  payment_methods: number;
  vault_cards_deleted: number;
  payment_intents: number;
  charges: number;
  refunds: number;
  disputes: number;
  wallets: number;
  events_scrubbed: number;
  idempotency_responses_scrubbed: number;
  webhook_attempts_scrubbed: number;
}

export const customerIdParam = { customerId: text(255) };
