// Turns a posting request into what will be written, refusing anything that breaks a ledger rule before
// the database is touched: entries summing to zero per currency, each account once, one merchant.
import { createHash, randomInt } from 'node:crypto';
import { parseOrThrow } from '../../http/validation.js';
import { newId } from '../../ids.js';
import { type AccountIdentity, identifyAccount, LedgerError, type ParsedPost, postSchema } from './ledger.js';
import type { PostingWrite } from './posting.repository.js';

export interface PlannedEntry {
  account: AccountIdentity;
  currency: string;
  amount: number;
}

export interface PostingPlan {
  input: ParsedPost;
  entries: PlannedEntry[];
  merchantId: string | null;
  contentHash: string;
  /** The merchant's balance transaction: entries on its available and pending (net) and fees (fee). */
  balanceView: { currency: string; net: number; fee: number } | null;
  /** A credit to merchant pending, which the release job later moves to available. */
  pendingCredit: { currency: string; amount: number } | null;
}

export function parsePost(input: unknown): ParsedPost {
  try {
    return parseOrThrow(postSchema, input);
  } catch (error) {
    const param = (error as { details?: { param?: string } }).details?.param;
    throw new LedgerError('ledger_invalid_posting', (error as Error).message, param);
  }
}

export function planPosting(input: ParsedPost): PostingPlan {
  const entries = input.entries.map((entry) => ({
    account: identifyAccount(entry.account, input.livemode, entry.currency),
    currency: entry.currency,
    amount: entry.amount,
  }));

  const seen = new Set<string>();
  for (const entry of entries) {
    if (seen.has(entry.account.id)) {
      throw new LedgerError(
        'ledger_duplicate_account',
        `account ${entry.account.type} (${entry.currency}) appears more than once; net it into one entry`,
        'entries',
      );
    }
    seen.add(entry.account.id);
  }

  const sums = new Map<string, number>();
  for (const entry of entries) sums.set(entry.currency, (sums.get(entry.currency) ?? 0) + entry.amount);
  for (const [code, sum] of sums) {
    if (sum !== 0) {
      throw new LedgerError(
        'ledger_unbalanced',
        `entries in ${code} sum to ${sum}; every currency of a transaction must sum to zero`,
        'entries',
      );
    }
  }

  const merchants = new Set(entries.map((e) => e.account.merchantId).filter((m) => m !== null));
  if (merchants.size > 1) {
    throw new LedgerError(
      'ledger_mixed_merchants',
      'a transaction may move the accounts of one merchant only; post one transaction per merchant',
      'entries',
    );
  }
  const merchantId = [...merchants][0] ?? null;

  const visible = entries.filter((e) =>
    ['merchant_available', 'merchant_pending', 'merchant_fees'].includes(e.account.type),
  );
  const currencies = new Set(visible.map((e) => e.currency));
  if (currencies.size > 1) {
    throw new LedgerError(
      'ledger_invalid_posting',
      "a transaction may move a merchant's balance in one currency only",
      'entries',
    );
  }
  let balanceView: PostingPlan['balanceView'] = null;
  if (visible.length > 0 && input.kind !== 'release') {
    const sumOf = (types: string[]) =>
      visible.filter((e) => types.includes(e.account.type)).reduce((total, e) => total + e.amount, 0);
    balanceView = {
      currency: visible[0]?.currency as string,
      net: sumOf(['merchant_available', 'merchant_pending']),
      fee: sumOf(['merchant_fees']),
    };
  }
  const pending = entries.find((e) => e.account.type === 'merchant_pending' && e.amount > 0);
  return {
    input,
    entries,
    merchantId,
    contentHash: contentHash(input, entries),
    balanceView,
    pendingCredit: pending ? { currency: pending.currency, amount: pending.amount } : null,
  };
}

/**
 * What makes two postings with the same key "the same": the money movement, kind and source. The
 * description and available_on are left out so the synchronous path and a webhook, which may word or
 * time things differently, still agree.
 */
function contentHash(input: ParsedPost, entries: PlannedEntry[]): string {
  const canonical = JSON.stringify({
    kind: input.kind,
    source: [input.source.type, input.source.id],
    livemode: input.livemode,
    entries: entries
      .map((e) => [e.account.id, e.currency, e.amount])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
  });
  return createHash('sha256').update(canonical).digest('hex');
}

/** What ledger_post() writes for a plan, stamped with the clock's time. */
export function toPostingWrite(
  plan: PostingPlan,
  now: Date,
  options: { balanceSlots: number; availabilityDelaySeconds: number },
): PostingWrite {
  const availableOn = plan.pendingCredit
    ? (plan.input.availableOn ?? new Date(now.getTime() + options.availabilityDelaySeconds * 1000))
    : now;
  return {
    id: plan.input.id ?? newId('txn'),
    key: plan.input.key,
    contentHash: plan.contentHash,
    merchantId: plan.merchantId,
    livemode: plan.input.livemode,
    kind: plan.input.kind,
    sourceType: plan.input.source.type,
    sourceId: plan.input.source.id,
    description: plan.input.description ?? null,
    createdAt: now,
    availableOn,
    balanceView: plan.balanceView,
    entries: plan.entries.map((e) => ({
      accountId: e.account.id,
      currency: e.currency,
      amount: e.amount,
      guarded: !e.account.mayGoNegative,
      // A random slot spreads concurrent writers of one account over several rows.
      slot: e.account.mayGoNegative ? randomInt(options.balanceSlots) : 0,
      owner: e.account.merchantId,
    })),
    pendingCredit: plan.pendingCredit,
  };
}
