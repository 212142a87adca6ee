// Wallets: a customer's stored value in one currency. The wallet row is the resource (status, metadata);
// its money is in the ledger (docs/ledger.md): `customer_wallet` is what can be spent, and
// `customer_wallet_hold` what uncaptured wallet payments reserve. Both may not go negative, so the
// ledger locks and checks them: every balance check here and in the wallet provider is the ledger's.
// Each change, its event and its posting commit in one transaction (invariant 4).
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../../clock.js';
import { isUniqueViolation } from '../../db/errors.js';
import type { Database } from '../../db/schema.js';
import { AppError, invalidParam, resourceMissing } from '../../http/errors.js';
import type { Scope } from '../../http/expand.js';
import type { ListParams } from '../../http/pagination.js';
import { listObject, paginate } from '../../http/pagination.js';
import { initialMetadata, MetadataLimitError } from '../../http/params.js';
import { newId } from '../../ids.js';
import { amountProblem, findCurrency } from '../../money/currencies.js';
import type { CustomersService } from '../customers/customers.service.js';
import type { EventsService } from '../events/events.service.js';
import { type AccountRef, accountRefSchema, identifyAccount } from '../ledger/ledger.js';
import { postingKey, walletFunded } from '../ledger/ledger.postings.js';
import type { LedgerService } from '../ledger/ledger.service.js';
import {
  type CreateWalletInput,
  type EntryListInput,
  entryId,
  entrySequence,
  type FundWalletInput,
  toWalletObject,
  type WalletBalance,
  type WalletEntryObject,
  type WalletObject,
} from './wallets.js';
import {
  accountEntries,
  findOpenWallet,
  findWallet,
  insertWallet,
  lockWallet,
  updateWallet,
  walletCreatedAt,
  walletsQuery,
} from './wallets.repository.js';
import type { WalletRow } from './wallets.table.js';

export interface RequestRef {
  id?: string | undefined;
  idempotencyKey?: string | undefined;
}

type Executor = Kysely<Database> | Transaction<Database>;

/** A refusal before anything is written: the Idempotency-Key stays free for the corrected request. */
const refused = (param: string, message: string, code = 'parameter_invalid') =>
  new AppError(400, 'invalid_request_error', code, message, {
    param,
    shouldRetry: false,
    releasesIdempotencyKey: true,
  });

export const walletAccount = (row: Pick<WalletRow, 'merchant_id' | 'customer_id'>): AccountRef => ({
  type: 'customer_wallet',
  merchantId: row.merchant_id,
  customerId: row.customer_id,
});
export const walletHoldAccount = (row: Pick<WalletRow, 'merchant_id' | 'customer_id'>): AccountRef => ({
  type: 'customer_wallet_hold',
  merchantId: row.merchant_id,
  customerId: row.customer_id,
});

/** Paying a wallet by card or PayPal: the payments module makes the intent whose success credits it. */
export type WalletTopUpPayer = (
  scope: Scope,
  wallet: WalletRow,
  input: FundWalletInput & { payment_method: string },
  request: RequestRef,
) => Promise<unknown>;

export class WalletsService {
  private topUpPayer: WalletTopUpPayer | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly events: EventsService,
    private readonly ledger: LedgerService,
    private readonly customers: Pick<CustomersService, 'find'>,
  ) {}

  /** Wired by the composition root once payments exist (they depend on wallets for the wallet provider). */
  setTopUpPayer(payer: WalletTopUpPayer): void {
    this.topUpPayer = payer;
  }

  async create(scope: Scope, input: CreateWalletInput, request?: RequestRef): Promise<WalletObject> {
    if (!findCurrency(input.currency)) {
      throw refused('currency', `Invalid currency: ${input.currency}. It must be a supported ISO 4217 code.`);
    }
    if (!(await this.customers.find(scope, input.customer))) {
      const missing = resourceMissing('customer', input.customer, 'customer');
      throw new AppError(missing.status, missing.type, missing.code, missing.message, {
        ...missing.details,
        releasesIdempotencyKey: true,
      });
    }
    let metadata: Record<string, string>;
    try {
      metadata = initialMetadata(input.metadata);
    } catch (error) {
      if (error instanceof MetadataLimitError) throw refused('metadata', error.message);
      throw error;
    }
    if (await findOpenWallet(this.db, scope, input.customer, input.currency)) {
      throw this.alreadyExists(input.customer, input.currency);
    }
    try {
      return await this.db.transaction().execute(async (trx) => {
        const row = await insertWallet(trx, {
          id: newId('wal'),
          merchant_id: scope.merchantId,
          livemode: scope.livemode,
          customer_id: input.customer,
          currency: input.currency,
          status: 'open',
          metadata: JSON.stringify(metadata),
          created_at: this.clock.now(),
          closed_at: null,
        });
        const wallet = await this.object(trx, row);
        await this.events.record(trx, scope, { type: 'wallet.created', object: wallet, request });
        return wallet;
      });
    } catch (error) {
      // A concurrent create for the same customer and currency won the unique index.
      if (isUniqueViolation(error)) throw this.alreadyExists(input.customer, input.currency);
      throw error;
    }
  }

  private alreadyExists(customer: string, currency: string): AppError {
    return new AppError(
      400,
      'invalid_request_error',
      'resource_already_exists',
      `Customer ${customer} already has an open ${currency.toUpperCase()} wallet.`,
      { param: 'currency', shouldRetry: false, releasesIdempotencyKey: true },
    );
  }

  async retrieve(scope: Scope, id: string): Promise<WalletObject> {
    return this.object(this.db, await this.row(scope, id));
  }

  async row(scope: Scope, id: string, param = 'id'): Promise<WalletRow> {
    const row = await findWallet(this.db, scope, id);
    if (!row) throw resourceMissing('wallet', id, param);
    return row;
  }

  /** A wallet row by id in this scope, or undefined. */
  find(scope: Scope, id: string): Promise<WalletRow | undefined> {
    return findWallet(this.db, scope, id);
  }

  /** The open wallet a wallet payment of `customer` in `currency` pays from, if any. */
  openWallet(scope: Scope, customerId: string, currency: string): Promise<WalletRow | undefined> {
    return findOpenWallet(this.db, scope, customerId, currency);
  }

  async list(scope: Scope, params: ListParams & { customer?: string | undefined }) {
    const page = await paginate(walletsQuery(this.db, scope, params), params, (id) =>
      walletCreatedAt(this.db, scope, id),
    );
    const data = await Promise.all(page.rows.map((row) => this.object(this.db, row)));
    return listObject('/v1/wallets', data, page.hasMore);
  }

  /** Available and held, read from the ledger in one snapshot. */
  async balance(row: WalletRow, executor: Executor = this.db): Promise<WalletBalance> {
    const [available, held] = await this.ledger.balances(
      row.livemode,
      [
        { account: walletAccount(row), currency: row.currency },
        { account: walletHoldAccount(row), currency: row.currency },
      ],
      executor,
    );
    return { available: available?.balance ?? 0, held: held?.balance ?? 0 };
  }

  async object(executor: Executor, row: WalletRow): Promise<WalletObject> {
    return toWalletObject(row, await this.balance(row, executor));
  }

  /**
   * Funds a wallet: `amount` alone is a direct credit (money entering from `external`, for keys with the
   * wallets scope); with `payment_method` a card or PayPal payment is made whose success credits it
   * (answered with that payment intent; the credit is posted by the payment's settlement).
   */
  async fund(scope: Scope, id: string, input: FundWalletInput, request: RequestRef): Promise<unknown> {
    const current = await this.row(scope, id);
    this.assertFundable(current, input.amount, input.payment_method !== undefined);
    if (input.payment_method !== undefined) {
      if (!this.topUpPayer) throw new Error('wallet top-ups by payment are not wired');
      return this.topUpPayer(scope, current, { ...input, payment_method: input.payment_method }, request);
    }
    if (input.return_url !== undefined) throw refused('return_url', 'return_url needs a payment_method.');
    const fundingId = newId('wfund');
    return this.db.transaction().execute(async (trx) => {
      const row = await lockWallet(trx, scope, id);
      if (!row) throw resourceMissing('wallet', id, 'id');
      this.assertFundable(row, input.amount, false);
      await this.ledger.post(
        trx,
        walletFunded({
          key: postingKey(fundingId, 'wallet_funding'),
          livemode: row.livemode,
          merchantId: row.merchant_id,
          customerId: row.customer_id,
          currency: row.currency,
          amount: input.amount,
          source: { type: 'wallet', id: row.id },
          description: input.description ?? 'Wallet funding',
        }),
      );
      const wallet = await this.object(trx, row);
      await this.events.record(trx, scope, {
        type: 'wallet.funded',
        object: wallet,
        previousAttributes: {
          balance: { ...wallet.balance, available: wallet.balance.available - input.amount },
        },
        request,
      });
      return wallet;
    });
  }

  private assertFundable(row: WalletRow, amount: number, byPayment: boolean): void {
    if (row.status !== 'open')
      throw refused('id', `Wallet ${row.id} is closed and cannot be funded.`, 'wallet_closed');
    const problem = amountProblem(amount, row.currency);
    // A direct credit has no card minimum; it must still be a positive integer within the maximum.
    if (!Number.isSafeInteger(amount) || amount <= 0) {
      throw refused(
        'amount',
        `amount must be a positive integer of minor units (got ${amount}).`,
        'amount_invalid',
      );
    }
    if (problem?.kind === 'above_maximum' || (byPayment && problem)) {
      throw refused(
        'amount',
        `amount ${amount} cannot be taken in ${row.currency.toUpperCase()} (${problem.kind}).`,
        'amount_invalid',
      );
    }
  }

  /** Records `wallet.funded` for a top-up posted by a payment's settlement, inside its transaction. */
  async recordTopUp(
    trx: Transaction<Database>,
    scope: Scope,
    walletId: string,
    amount: number,
    request?: RequestRef,
  ): Promise<void> {
    const row = await findWallet(trx, scope, walletId);
    if (!row) return;
    const wallet = await this.object(trx, row);
    await this.events.record(trx, scope, {
      type: 'wallet.funded',
      object: wallet,
      previousAttributes: { balance: { ...wallet.balance, available: wallet.balance.available - amount } },
      request,
    });
  }

  /** Closes a wallet at zero: nothing available, nothing held (both read under the ledger's locks). */
  async close(scope: Scope, id: string, request?: RequestRef): Promise<WalletObject> {
    return this.db.transaction().execute(async (trx) => {
      const row = await lockWallet(trx, scope, id);
      if (!row) throw resourceMissing('wallet', id, 'id');
      if (row.status === 'closed') throw refused('id', `Wallet ${id} is already closed.`, 'wallet_closed');
      // Ascending account id order, as every ledger lock is taken.
      const accounts = [walletAccount(row), walletHoldAccount(row)].sort((a, b) =>
        this.accountId(row, a) < this.accountId(row, b) ? -1 : 1,
      );
      const balances = new Map<string, number>();
      for (const account of accounts) {
        balances.set(account.type, await this.ledger.lockedBalance(trx, row.livemode, account, row.currency));
      }
      const available = balances.get('customer_wallet') ?? 0;
      const held = balances.get('customer_wallet_hold') ?? 0;
      if (available !== 0 || held !== 0) {
        throw refused(
          'id',
          `Wallet ${id} can be closed only at zero balance with no holds (available ${available}, held ${held}).`,
          'wallet_not_empty',
        );
      }
      const closed = await updateWallet(trx, id, { status: 'closed', closed_at: this.clock.now() });
      const wallet = toWalletObject(closed, { available: 0, held: 0 });
      await this.events.record(trx, scope, {
        type: 'wallet.closed',
        object: wallet,
        previousAttributes: { status: 'open', closed_at: null },
        request,
      });
      return wallet;
    });
  }

  private accountId(row: WalletRow, account: AccountRef): string {
    return identifyAccount(accountRefSchema.parse(account), row.livemode, row.currency).id;
  }

  /** The wallet account's ledger entries since the wallet was opened, newest first. */
  async entries(scope: Scope, id: string, params: EntryListInput) {
    const row = await this.row(scope, id);
    const limit = params.limit ?? 10;
    if (params.starting_after && params.ending_before) {
      throw invalidParam('ending_before', 'You may only specify one of starting_after and ending_before.');
    }
    const cursor = (param: 'starting_after' | 'ending_before') => {
      const value = params[param];
      if (value === undefined) return undefined;
      const sequence = entrySequence(value);
      if (sequence === undefined) {
        throw invalidParam(
          param,
          `No such wallet entry: '${value}' (${param} must be an id from this list)`,
          'resource_missing',
        );
      }
      return sequence;
    };
    const rows = await accountEntries(this.db, this.accountId(row, walletAccount(row)), {
      since: row.created_at,
      before: cursor('starting_after'),
      after: cursor('ending_before'),
      limit,
    });
    const hasMore = rows.length > limit;
    const page = rows.slice(0, limit);
    if (params.ending_before !== undefined) page.reverse();
    const data = page.map(
      (entry): WalletEntryObject => ({
        id: entryId(entry.id),
        object: 'wallet_entry',
        wallet: row.id,
        amount: entry.amount,
        currency: entry.currency,
        type: entry.kind,
        transaction: entry.transaction_id,
        source: { type: entry.source_type, id: entry.source_id },
        description: entry.description,
        livemode: entry.livemode,
        created: Math.floor(entry.created_at.getTime() / 1000),
      }),
    );
    return listObject(`/v1/wallets/${row.id}/entries`, data, hasMore);
  }
}
