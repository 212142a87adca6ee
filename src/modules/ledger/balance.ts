// Stripe's balance and balance_transaction objects, read from the ledger. A balance transaction is a
// ledger transaction that moved a merchant's available, pending or fee balance; pending -> available
// releases are not shown on their own, the original transaction turns `available` instead.
import { z } from 'zod';
import { unixSeconds } from '../../clock.js';
import { text } from '../../http/params.js';
import { KIND_NAMES, KINDS, type LedgerKind } from './ledger.js';
import type { LedgerTransactionRow } from './ledger.table.js';

const TYPES = [...new Set(Object.values(KINDS).map((k) => k.type))] as [string, ...string[]];

export const balanceTransactionFilters = {
  type: z.enum(TYPES).optional(),
  currency: z
    .string()
    .regex(/^[A-Za-z]{3}$/, { message: 'must be a three-letter ISO 4217 code' })
    .transform((code) => code.toLowerCase())
    .optional(),
  source: text(255).optional(),
};

/** The ledger kinds shown as a given Stripe balance transaction type. */
export function kindsOfType(type: string): LedgerKind[] {
  return KIND_NAMES.filter((kind) => kind !== 'release' && KINDS[kind].type === type);
}

export type BalanceTransactionRow = LedgerTransactionRow & { pending: boolean };

export function toBalanceTransaction(row: BalanceTransactionRow) {
  const kind = KINDS[row.kind as LedgerKind] ?? KINDS.adjustment;
  const currency = row.bt_currency as string;
  const net = row.bt_net ?? 0;
  const fee = row.bt_fee ?? 0;
  return {
    id: row.id,
    object: 'balance_transaction' as const,
    amount: net + fee,
    available_on: unixSeconds(row.available_on),
    balance_type: 'payments' as const,
    created: unixSeconds(row.created_at),
    currency,
    description: row.description,
    exchange_rate: null,
    fee,
    fee_details:
      fee === 0
        ? []
        : [{ amount: fee, application: null, currency, description: 'Processing fees', type: 'stripe_fee' }],
    net,
    reporting_category: kind.category,
    source: row.source_id,
    status: row.pending ? ('pending' as const) : ('available' as const),
    type: kind.type,
  };
}

export type BalanceTransactionObject = ReturnType<typeof toBalanceTransaction>;

interface Funds {
  amount: number;
  currency: string;
  // Sources are not tracked per type yet; every amount is reported under `card`.
  source_types: { card: number };
}

export function toBalance(
  livemode: boolean,
  rows: { type: string; currency: string; balance: number }[],
  defaultCurrency = 'usd',
) {
  const currencies = [...new Set(rows.map((r) => r.currency))].sort();
  if (currencies.length === 0) currencies.push(defaultCurrency);
  const funds = (type: string): Funds[] =>
    currencies.map((currency) => {
      const amount = rows.find((r) => r.type === type && r.currency === currency)?.balance ?? 0;
      return { amount, currency, source_types: { card: amount } };
    });
  return {
    object: 'balance' as const,
    available: funds('merchant_available'),
    connect_reserved: currencies.map((currency) => ({ amount: 0, currency })),
    livemode,
    pending: funds('merchant_pending'),
  };
}
