// The ledger's service API for other modules. `post` runs inside the caller's transaction, so a payment
// commits its state change, its posting and its event together (DESIGN invariant 4). Accounts that may
// not go negative are locked in ascending id order and checked before anything is written; accounts
// that may go negative are added to a random balance slot without being read (see docs/ledger.md).
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
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
import {
  type PlannedEntry,
  type PostingPlan,
  parsePost,
  planPosting,
  toPostingWrite,
} from './ledger.plan.js';
import { releaseDue } from './ledger.release.js';
import { ensureAccounts, findTransactionByKey, lockBalances, readBalances } from './ledger.repository.js';
import type { LedgerTransactionRow } from './ledger.table.js';
import { type PostingResult, type PostingWrite, writePostings } from './posting.repository.js';

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

export type BatchOutcome = { posted: PostedTransaction } | { refused: LedgerError };

export interface BalanceQuery {
  account: AccountRef;
  currency: string;
}

const KNOWN_ACCOUNTS_LIMIT = 100_000;

type Executor = Kysely<Database> | Transaction<Database>;

export class LedgerService {
  /** Accounts known to exist and be committed, so their creation statement can be skipped. */
  private readonly knownAccounts = new Set<string>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly options: LedgerOptions,
  ) {}

  /**
   * Posts a transaction in the caller's transaction (or on its own, given the pool). The same key with
   * the same content returns the first transaction (`replayed: true`); with other content it is refused.
   * A refusal writes nothing and leaves the caller's transaction usable.
   */
  async post(executor: Executor, input: PostInput): Promise<PostedTransaction> {
    const plan = planPosting(parsePost(input));
    await this.ensureAccounts(
      executor,
      plan.entries.map((e) => e.account),
    );
    return this.write(executor, plan);
  }

  /**
   * Posts independent transactions in one statement: one round trip and, on the pool, one commit for
   * all of them, for bulk work (releases, imports, settlements, the bank test). Every account that may not go negative is locked up
   * front in ascending id order, so concurrent batches cannot deadlock. Each posting is refused or
   * written on its own; a refusal does not undo the others.
   */
  async postBatch(inputs: PostInput[], executor: Executor = this.db): Promise<BatchOutcome[]> {
    const planned = inputs.map((input): PostingPlan | LedgerError => {
      try {
        return planPosting(parsePost(input));
      } catch (error) {
        if (error instanceof LedgerError) return error;
        throw error;
      }
    });
    const plans = planned.filter((p): p is PostingPlan => !(p instanceof LedgerError));
    const accounts = new Map(plans.flatMap((p) => p.entries.map((e) => [e.account.id, e.account] as const)));
    if (accounts.size > 0) await this.ensureAccounts(executor, [...accounts.values()]);
    const writes = plans.map((plan) => toPostingWrite(plan, this.clock.now(), this.options));
    const results = plans.length > 0 ? await writePostings(executor, writes) : [];
    const outcomes: BatchOutcome[] = [];
    let next = 0;
    for (const plan of planned) {
      if (plan instanceof LedgerError) {
        outcomes.push({ refused: plan });
        continue;
      }
      const index = next++;
      try {
        outcomes.push({
          posted: await this.settle(executor, plan, writes[index] as PostingWrite, results[index]),
        });
      } catch (error) {
        if (!(error instanceof LedgerError)) throw error;
        outcomes.push({ refused: error });
      }
    }
    return outcomes;
  }

  private async write(executor: Executor, plan: PostingPlan): Promise<PostedTransaction> {
    const write = toPostingWrite(plan, this.clock.now(), this.options);
    const [result] = await writePostings(executor, [write]);
    return this.settle(executor, plan, write, result);
  }

  /** Turns ledger_post's answer into the posted transaction, a replay, or a refusal. */
  private async settle(
    executor: Executor,
    plan: PostingPlan,
    write: PostingWrite,
    result: PostingResult | undefined,
  ): Promise<PostedTransaction> {
    if (result?.status === 'posted') {
      return {
        id: write.id,
        key: write.key,
        kind: plan.input.kind,
        created: write.createdAt,
        replayed: false,
      };
    }
    // Nothing was written: the key exists already, or an account would have gone negative. A retry of a
    // transfer that already spent these funds must see its first result, not a refusal.
    const existing = await findTransactionByKey(executor, plan.input.key);
    if (existing) return this.replay(existing, plan);
    if (result?.status !== 'short')
      throw new Error(`posting key ${plan.input.key} exists but cannot be read`);
    const balances = result.balances ?? {};
    const held = (e: PlannedEntry) => Number(balances[e.account.id] ?? 0);
    const short = plan.entries.find((e) => !e.account.mayGoNegative && held(e) + e.amount < 0);
    throw new LedgerError(
      'balance_insufficient',
      short
        ? `${describe(short)} holds ${held(short)} ${short.currency}; it may not go negative (entry of ${short.amount})`
        : 'an account that may not go negative would have',
      'entries',
    );
  }

  /** Whether a transaction with this key was posted (the wallet provider's record, read back). */
  async hasPosting(key: string): Promise<boolean> {
    return (await findTransactionByKey(this.db, key)) !== undefined;
  }

  /** `post` on its own: one round trip, committed when it returns. */
  postAlone(input: PostInput): Promise<PostedTransaction> {
    return this.post(this.db, input);
  }

  /** Moves a positive amount from one account to another. */
  async transfer(executor: Executor, input: TransferInput): Promise<PostedTransaction> {
    if (!Number.isSafeInteger(input.amount) || input.amount <= 0) {
      throw new LedgerError(
        'ledger_invalid_posting',
        `amount must be a positive integer of minor units (got ${input.amount})`,
        'amount',
      );
    }
    return this.post(executor, {
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
    return this.transfer(this.db, input);
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

  /** Moves merchant pending funds whose available_on has passed to available; returns how many. */
  releaseDue(now: Date): Promise<number> {
    return releaseDue(this.db, this, now);
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

  private async ensureAccounts(executor: Executor, accounts: AccountIdentity[]): Promise<void> {
    const missing = accounts.filter((a) => !this.knownAccounts.has(a.id));
    if (missing.length === 0) return;
    const inserted = await ensureAccounts(executor, missing, this.clock.now());
    if (this.knownAccounts.size > KNOWN_ACCOUNTS_LIMIT) this.knownAccounts.clear();
    // Rows inserted inside a caller's transaction are not committed yet and may still roll back.
    const committed = !executor.isTransaction;
    for (const account of missing) {
      if (committed || !inserted.has(account.id)) this.knownAccounts.add(account.id);
    }
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
