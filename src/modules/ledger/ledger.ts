// The ledger's vocabulary: account references, posting input (zod), transaction kinds and how each kind
// shows up as a Stripe balance transaction, and the ledger's own errors.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../../http/errors.js';
import type { AccountType } from './ledger.table.js';

/** Largest amount of one entry: far above any payment, far below where sums could leave int8. */
export const MAX_ENTRY_AMOUNT = 1_000_000_000_000;

const id = z.string().min(1).max(255);
const currency = z
  .string()
  .regex(/^[A-Za-z]{3}$/, { message: 'must be a three-letter ISO 4217 code' })
  .transform((code) => code.toLowerCase());

export const accountRefSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.enum(['merchant_available', 'merchant_pending', 'merchant_fees', 'merchant_disputes']),
    merchantId: id,
  }),
  z.strictObject({ type: z.literal('provider_clearing'), provider: z.string().regex(/^[a-z0-9_]{1,32}$/) }),
  z.strictObject({
    type: z.enum(['customer_wallet', 'customer_wallet_hold']),
    merchantId: id,
    customerId: id,
  }),
  z.strictObject({ type: z.enum(['external', 'losses']) }),
]);
export type AccountRef = z.input<typeof accountRefSchema>;

/** Whether an account may go negative is a property of its type: customers' wallets never do. */
export const MAY_GO_NEGATIVE: Record<AccountType, boolean> = {
  merchant_available: true,
  merchant_pending: true,
  merchant_fees: true,
  merchant_disputes: true,
  provider_clearing: true,
  customer_wallet: false,
  customer_wallet_hold: false,
  external: true,
  losses: true,
};

/** How each kind appears to the merchant (Stripe's balance transaction type and reporting category). */
export const KINDS = {
  charge: { type: 'charge', category: 'charge' },
  payment: { type: 'payment', category: 'charge' },
  refund: { type: 'refund', category: 'refund' },
  payment_refund: { type: 'payment_refund', category: 'refund' },
  // A refund the provider later failed: the refund's posting reversed (Stripe's refund_failure).
  refund_failure: { type: 'refund_failure', category: 'refund_failure' },
  dispute: { type: 'adjustment', category: 'dispute' },
  dispute_reversal: { type: 'adjustment', category: 'dispute_reversal' },
  dispute_loss: { type: 'adjustment', category: 'dispute' },
  wallet_topup: { type: 'adjustment', category: 'other_adjustment' },
  wallet_topup_dispute: { type: 'adjustment', category: 'dispute' },
  wallet_topup_dispute_reversal: { type: 'adjustment', category: 'dispute_reversal' },
  // Money entering a wallet from outside (a direct credit by a key with the wallets scope).
  wallet_funding: { type: 'adjustment', category: 'other_adjustment' },
  // Wallet funds reserved by an uncaptured payment, and released by its cancel.
  wallet_hold: { type: 'adjustment', category: 'other_adjustment' },
  wallet_release: { type: 'adjustment', category: 'other_adjustment' },
  transfer: { type: 'transfer', category: 'transfer' },
  payout: { type: 'payout', category: 'payout' },
  settlement: { type: 'adjustment', category: 'other_adjustment' },
  adjustment: { type: 'adjustment', category: 'other_adjustment' },
  fee: { type: 'stripe_fee', category: 'fee' },
  // Pending -> available for the same merchant: shown as the original transaction turning available.
  release: { type: 'adjustment', category: 'other_adjustment' },
} as const;
export type LedgerKind = keyof typeof KINDS;
export const KIND_NAMES = Object.keys(KINDS) as [LedgerKind, ...LedgerKind[]];

export const entrySchema = z.strictObject({
  account: accountRefSchema,
  amount: z
    .number({ message: 'must be an integer amount of minor units' })
    .refine((n) => Number.isSafeInteger(n), { message: 'must be an integer amount of minor units' })
    .refine((n) => n !== 0, { message: 'must not be zero' })
    .refine((n) => Math.abs(n) <= MAX_ENTRY_AMOUNT, { message: `must be at most ${MAX_ENTRY_AMOUNT}` }),
  currency,
});

export const postSchema = z.strictObject({
  /**
   * The transaction id to use when this key is posted for the first time, so a caller can reference it
   * in rows written before the posting (and post last, holding balance locks briefly). A replay of the
   * key returns the first transaction's id instead.
   */
  id: z
    .string()
    .regex(/^txn_[A-Za-z0-9]{1,64}$/)
    .optional(),
  key: z.string().min(1).max(255),
  kind: z.enum(KIND_NAMES),
  source: z.strictObject({ type: z.string().min(1).max(64), id }),
  livemode: z.boolean(),
  description: z.string().max(1000).nullable().optional(),
  /** When pending funds credited by this posting become available (default: now + the configured delay). */
  availableOn: z.date().optional(),
  entries: z.array(entrySchema).min(2, { message: 'a transaction needs at least two entries' }).max(64),
});
export type PostInput = z.input<typeof postSchema>;
export type ParsedPost = z.output<typeof postSchema>;
export type ParsedAccountRef = z.output<typeof accountRefSchema>;

export interface AccountIdentity {
  id: string;
  type: AccountType;
  livemode: boolean;
  currency: string;
  merchantId: string | null;
  ownerId: string | null;
  mayGoNegative: boolean;
}

const identities = new Map<string, AccountIdentity>();

/** Derives the account's id from its natural key, so no read is needed to name (or lock) it. */
export function identifyAccount(ref: ParsedAccountRef, livemode: boolean, code: string): AccountIdentity {
  const merchantId = 'merchantId' in ref ? ref.merchantId : null;
  const ownerId =
    ref.type === 'customer_wallet' || ref.type === 'customer_wallet_hold'
      ? ref.customerId
      : ref.type === 'provider_clearing'
        ? ref.provider
        : null;
  const natural = [livemode ? 'live' : 'test', ref.type, merchantId ?? '', ownerId ?? '', code].join('|');
  const known = identities.get(natural);
  if (known) return known;
  const identity: AccountIdentity = {
    id: `lac_${createHash('sha256').update(natural).digest('hex').slice(0, 32)}`,
    type: ref.type,
    livemode,
    currency: code,
    merchantId,
    ownerId,
    mayGoNegative: MAY_GO_NEGATIVE[ref.type],
  };
  // Bounded: a cache of hashes, not a registry; losing it costs one hash per account.
  if (identities.size >= 50_000) identities.clear();
  identities.set(natural, identity);
  return identity;
}

export type LedgerErrorCode =
  | 'ledger_invalid_posting'
  | 'ledger_unbalanced'
  | 'ledger_duplicate_account'
  | 'ledger_mixed_merchants'
  | 'balance_insufficient'
  | 'posting_key_reused';

/** A refused posting. Nothing was written when this is thrown; the caller's transaction stays usable. */
export class LedgerError extends AppError {
  constructor(
    readonly reason: LedgerErrorCode,
    message: string,
    param?: string,
  ) {
    super(reason === 'posting_key_reused' ? 409 : 400, 'invalid_request_error', reason, message, {
      ...(param ? { param } : {}),
      shouldRetry: false,
    });
    this.name = 'LedgerError';
  }
}

export interface PostedTransaction {
  id: string;
  key: string;
  kind: LedgerKind;
  created: Date;
  /** True when the key had already been posted with the same content: nothing new was written. */
  replayed: boolean;
}
