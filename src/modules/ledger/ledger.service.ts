// The ledger's service API for other modules. `post` runs inside the caller's transaction, so a payment
// commits its state change, its posting and its event together (DESIGN invariant 4). Accounts that may
// not go negative are locked in ascending id order and checked before anything is written; accounts
// that may go negative are added to a random balance slot without being read (see docs/ledger.md).
import { randomInt } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { newId } from '../../ids.js';
import {
  type AccountIdentity,
  type AccountRef,
  accountRefSchema,
  identifyAccount,
  LedgerError,
  type LedgerKind,
  type PostedTransaction,
  type PostInput,
} from './ledger.js';
import { type PlannedEntry, type PostingPlan, parsePost, planPosting } from './ledger.plan.js';
import {
  claimDueAvailability,
  ensureAccounts,
  findTransactionByKey,
  lockBalances,
  markReleased,
  readBalances,
  writePosting,
} from './ledger.repository.js';
import type { LedgerTransactionRow } from './ledger.table.js';

export interface LedgerOptions {
  /** Balance rows per account that may go negative; more slots, less waiting on one row. */
  balanceSlots: number;
  /** Default delay before merchant pending funds become available. */
  availabilityDelaySeconds: number;
}

export interface TransferInput {
  key: string;
  kind?: LedgerKind;
  source: { type: string; id: string };
  livemode: boolean;
  from: AccountRef;
  to: AccountRef;
  amount: number;
  currency: string;
  description?: string | null;
}

export interface BalanceQuery {
  account: AccountRef;
  currency: string;
}

const KNOWN_ACCOUNTS_LIMIT = 100_000;

export class LedgerService {
  /** Accounts known to exist and be committed, so their creation statement can be skipped. */
  private readonly knownAccounts = new Set<string>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly options: LedgerOptions,
  ) {}

  /**
   * Posts a transaction in the caller's transaction. The same key with the same content returns the first
   * transaction (`replayed: true`); with other content it is refused. A refusal writes nothing.
   */
  async post(trx: Transaction<Database>, input: PostInput): Promise<PostedTransaction> {
    const plan = planPosting(parsePost(input));
    await this.ensureAccounts(
      trx,
      plan.entries.map((e) => e.account),
    );

    const constrained = plan.entries
      .filter((e) => !e.account.mayGoNegative)
      .sort((a, b) => (a.account.id < b.account.id ? -1 : 1));
    if (constrained.length > 0) {
      const balances = await lockBalances(
        trx,
        constrained.map((e) => e.account.id),
      );
      const short = constrained.find((e) => (balances.get(e.account.id) ?? 0) + e.amount < 0);
      if (short) {
        // A retry of a transfer that already spent these funds must see its first result, not a refusal.
        const existing = await findTransactionByKey(trx, plan.input.key);
        if (existing) return this.replay(existing, plan);
        throw new LedgerError(
          'balance_insufficient',
          `${describe(short)} holds ${balances.get(short.account.id) ?? 0} ${short.currency}; ` +
            `it may not go negative (entry of ${short.amount})`,
          'entries',
        );
      }
    }

    const now = this.clock.now();
    const availableOn = plan.pendingCredit
      ? (plan.input.availableOn ?? new Date(now.getTime() + this.options.availabilityDelaySeconds * 1000))
      : now;
    const id = newId('txn');
    const written = await writePosting(trx, {
      id,
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
      entries: plan.entries.map((e) => ({ accountId: e.account.id, currency: e.currency, amount: e.amount })),
      balances: plan.entries.map((e) => ({
        accountId: e.account.id,
        slot: e.account.mayGoNegative ? randomInt(this.options.balanceSlots) : 0,
        merchantId: e.account.merchantId,
        mayGoNegative: e.account.mayGoNegative,
        amount: e.amount,
      })),
      availability: plan.pendingCredit,
    });
    if (!written) {
      const existing = await findTransactionByKey(trx, plan.input.key);
      if (!existing) throw new Error(`posting key ${plan.input.key} conflicted but cannot be read`);
      return this.replay(existing, plan);
    }
    return { id, key: plan.input.key, kind: plan.input.kind, created: now, replayed: false };
  }

  /** `post` in a transaction of its own. */
  postAlone(input: PostInput): Promise<PostedTransaction> {
    return this.db.transaction().execute((trx) => this.post(trx, input));
  }

  /** Moves a positive amount from one account to another. */
  transfer(trx: Transaction<Database>, input: TransferInput): Promise<PostedTransaction> {
    if (!Number.isSafeInteger(input.amount) || input.amount <= 0) {
      throw new LedgerError(
        'ledger_invalid_posting',
        `amount must be a positive integer of minor units (got ${input.amount})`,
        'amount',
      );
    }
    return this.post(trx, {
      key: input.key,
      kind: input.kind ?? 'transfer',
      source: input.source,
      livemode: input.livemode,
      description: input.description ?? null,
      entries: [
        { account: input.from, amount: -input.amount, currency: input.currency },
        { account: input.to, amount: input.amount, currency: input.currency },
      ],
    });
  }

  transferAlone(input: TransferInput): Promise<PostedTransaction> {
    return this.db.transaction().execute((trx) => this.transfer(trx, input));
  }

  /**
   * Balances (sum of the cached slots) and versions (number of entries) of several accounts, read in one
   * statement, hence one snapshot. An account never posted to reads as 0.
   */
  async balances(
    livemode: boolean,
    queries: BalanceQuery[],
    executor: Kysely<Database> | Transaction<Database> = this.db,
  ): Promise<{ balance: number; version: number }[]> {
    const ids = queries.map(
      (q) => identifyAccount(accountRefSchema.parse(q.account), livemode, q.currency.toLowerCase()).id,
    );
    const found = await readBalances(executor, ids);
    return ids.map((id) => found.get(id) ?? { balance: 0, version: 0 });
  }

  /**
   * Moves merchant pending funds whose available_on has passed to available: one posting per original
   * transaction, keyed by it, so a second run (or a concurrent one) moves nothing twice. Small batches
   * keep the balance slots it touches locked only briefly.
   */
  async releaseDue(now: Date, batchSize = 50, maxBatches = 200): Promise<number> {
    let moved = 0;
    for (let batch = 0; batch < maxBatches; batch++) {
      const count = await this.db.transaction().execute(async (trx) => {
        const due = await claimDueAvailability(trx, now, batchSize);
        for (const row of due) {
          const released = await this.post(trx, {
            key: `release:${row.transaction_id}`,
            kind: 'release',
            source: { type: 'balance_transaction', id: row.transaction_id },
            livemode: row.livemode,
            entries: [
              {
                account: { type: 'merchant_pending', merchantId: row.merchant_id },
                amount: -row.amount,
                currency: row.currency,
              },
              {
                account: { type: 'merchant_available', merchantId: row.merchant_id },
                amount: row.amount,
                currency: row.currency,
              },
            ],
          });
          await markReleased(trx, row.transaction_id, released.id);
        }
        return due.length;
      });
      moved += count;
      if (count < batchSize) break;
    }
    return moved;
  }

  /**
   * Locks an account that may not go negative and returns its balance, for postings whose amounts depend
   * on it (a disputed wallet top-up takes what the wallet still holds). Locks are held until the caller's
   * transaction ends; take them before other ledger locks, as `post` does, in ascending id order.
   */
  async lockedBalance(
    trx: Transaction<Database>,
    livemode: boolean,
    account: AccountRef,
    currency: string,
  ): Promise<number> {
    const identity = identifyAccount(accountRefSchema.parse(account), livemode, currency.toLowerCase());
    if (identity.mayGoNegative) {
      throw new Error(`${identity.type} may go negative and is never locked; read it with balances()`);
    }
    await this.ensureAccounts(trx, [identity]);
    return (await lockBalances(trx, [identity.id])).get(identity.id) ?? 0;
  }

  private async ensureAccounts(trx: Transaction<Database>, accounts: AccountIdentity[]): Promise<void> {
    const missing = accounts.filter((a) => !this.knownAccounts.has(a.id));
    if (missing.length === 0) return;
    const inserted = await ensureAccounts(trx, missing, this.clock.now());
    if (this.knownAccounts.size > KNOWN_ACCOUNTS_LIMIT) this.knownAccounts.clear();
    // Rows inserted by this call are not committed yet and may still roll back: not remembered.
    for (const account of missing) if (!inserted.has(account.id)) this.knownAccounts.add(account.id);
  }

  private replay(existing: LedgerTransactionRow, plan: PostingPlan): PostedTransaction {
    if (existing.content_hash !== plan.contentHash) {
      throw new LedgerError(
        'posting_key_reused',
        `posting key ${plan.input.key} was used for a different transaction (${existing.id})`,
        'key',
      );
    }
    return {
      id: existing.id,
      key: existing.key,
      kind: existing.kind as LedgerKind,
      created: existing.created_at,
      replayed: true,
    };
  }
}

function describe(entry: PlannedEntry): string {
  const owner = entry.account.ownerId ?? entry.account.merchantId;
  return `account ${entry.account.type}${owner ? ` of ${owner}` : ''}`;
}
