// The wallet resource (a Stripe-style extension): its parameters (zod, the source for validation and the
// OpenAPI document) and the API objects. A wallet's balance is read from the ledger, never stored here:
//   balance.available  what the customer can spend now (the `customer_wallet` account)
//   balance.held       reserved by uncaptured wallet payments (the `customer_wallet_hold` account)
// so available + held is everything the wallet holds.
import { z } from 'zod';
import { unixSeconds } from '../../clock.js';
import { integer, metadata, text } from '../../http/params.js';
import type { WalletRow, WalletStatus } from './wallets.table.js';

const currency = z
  .string()
  .regex(/^[A-Za-z]{3}$/, { message: 'must be a three-letter ISO 4217 currency code' })
  .transform((code) => code.toLowerCase());

export const createWalletFields = {
  customer: text(255),
  currency,
  metadata: metadata().optional(),
};
export type CreateWalletInput = z.output<z.ZodObject<typeof createWalletFields>>;

export const fundWalletFields = {
  amount: integer("an integer amount in the currency's minor unit"),
  /** A card or PayPal payment method: the wallet is credited when that payment succeeds. */
  payment_method: text(255).optional(),
  /** Where PayPal sends the payer back (needed for PayPal, as for any redirecting confirmation). */
  return_url: text(2048).optional(),
  description: text(1000).optional(),
  metadata: metadata().optional(),
};
export type FundWalletInput = z.output<z.ZodObject<typeof fundWalletFields>>;

export const walletListFilters = { customer: text(255).optional() };

/** Entries are paged by their own order (the order they applied in), newest first. */
export const entryListFields = {
  limit: integer()
    .refine((n) => n >= 1 && n <= 100, { message: 'must be between 1 and 100' })
    .optional(),
  starting_after: text(255).optional(),
  ending_before: text(255).optional(),
};
export type EntryListInput = z.output<z.ZodObject<typeof entryListFields>>;

export interface WalletBalance {
  available: number;
  held: number;
}

export type WalletObject = {
  id: string;
  object: 'wallet';
  customer: string;
  currency: string;
  status: WalletStatus;
  balance: WalletBalance;
  livemode: boolean;
  created: number;
  closed_at: number | null;
  metadata: Record<string, string>;
};

export function toWalletObject(row: WalletRow, balance: WalletBalance): WalletObject {
  return {
    id: row.id,
    object: 'wallet',
    customer: row.customer_id,
    currency: row.currency,
    status: row.status,
    balance,
    livemode: row.livemode,
    created: unixSeconds(row.created_at),
    closed_at: row.closed_at ? unixSeconds(row.closed_at) : null,
    metadata: row.metadata,
  };
}

export interface WalletEntryObject {
  id: string;
  object: 'wallet_entry';
  wallet: string;
  /** Signed minor units: positive credits the wallet, negative debits it. */
  amount: number;
  currency: string;
  /** The ledger transaction's kind: wallet_funding, wallet_topup, payment, wallet_hold, ... */
  type: string;
  /** The ledger transaction (balance transaction id when the merchant's balance moved too). */
  transaction: string;
  source: { type: string; id: string };
  description: string | null;
  livemode: boolean;
  created: number;
}

/** Entry ids are the ledger entry's sequence, so `wle_<n>` pages exactly in the order entries applied. */
export const entryId = (sequence: number) => `wle_${sequence}`;

export function entrySequence(id: string): number | undefined {
  const match = /^wle_(\d{1,18})$/.exec(id);
  return match ? Number(match[1]) : undefined;
}
