// The ledger's posting rules through the service API that payments, refunds and wallets call: balanced
// transactions post, replays return the first transaction, every malformed or forbidden posting is
// refused without writing anything, and the database refuses edits to what was posted.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AccountRef, LedgerError, type PostInput } from '../src/modules/ledger/ledger.js';
import * as postings from '../src/modules/ledger/ledger.postings.js';
import type { LedgerService } from '../src/modules/ledger/ledger.service.js';
import { verifyLedger } from '../src/modules/ledger/ledger.verify.js';
import { startTestService, type TestService } from './support/service.js';

let t: TestService;
let ledger: LedgerService;
beforeAll(async () => {
  t = await startTestService();
  ledger = t.service.services.ledger;
});
afterAll(async () => {
  await t.close();
});

const unique = () => randomBytes(6).toString('hex');
const clearing: AccountRef = { type: 'provider_clearing', provider: 'stripe' };
const external: AccountRef = { type: 'external' };
const wallet = (customerId: string): AccountRef => ({
  type: 'customer_wallet',
  merchantId: t.merchantId,
  customerId,
});
const pending = (merchantId = t.merchantId): AccountRef => ({ type: 'merchant_pending', merchantId });
const fees = (merchantId = t.merchantId): AccountRef => ({ type: 'merchant_fees', merchantId });

function charge(key: string, amount = 1000, fee = 59): PostInput {
  return {
    key,
    kind: 'charge',
    source: { type: 'charge', id: `ch_${key}` },
    livemode: false,
    entries: [
      { account: clearing, amount: -amount, currency: 'usd' },
      { account: pending(), amount: amount - fee, currency: 'usd' },
      { account: fees(), amount: fee, currency: 'usd' },
    ],
  };
}

async function transactionCount(): Promise<number> {
  const row = await sql<{ n: number }>`select count(*)::int as n from ledger_transactions`.execute(
    t.service.database.db,
  );
  return row.rows[0]?.n ?? 0;
}

async function refusal(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error('expected the posting to be refused');
}

describe('ledger postings', () => {
  it('posts a balanced charge and keeps balances and versions per account', async () => {
    const merchant = `acct_${unique()}`;
    const input = charge(unique());
    input.entries = [
      { account: clearing, amount: -1000, currency: 'usd' },
      { account: pending(merchant), amount: 941, currency: 'usd' },
      { account: fees(merchant), amount: 59, currency: 'usd' },
    ];
    const posted = await ledger.postAlone(input);
    expect(posted).toMatchObject({ kind: 'charge', replayed: false });
    expect(posted.id).toMatch(/^txn_/);
    await ledger.postAlone({ ...input, key: unique() });
    const [p, f] = await ledger.balances(false, [
      { account: pending(merchant), currency: 'usd' },
      { account: fees(merchant), currency: 'USD' },
    ]);
    expect(p).toEqual({ balance: 1882, version: 2 });
    expect(f).toEqual({ balance: 118, version: 2 });
  });

  it('returns the first transaction when a key is posted again with the same content', async () => {
    const key = unique();
    const first = await ledger.postAlone(charge(key));
    const before = await ledger.balances(false, [{ account: pending(), currency: 'usd' }]);
    const again = await ledger.postAlone({ ...charge(key), description: 'worded differently' });
    expect(again).toMatchObject({ id: first.id, replayed: true });
    expect(await ledger.balances(false, [{ account: pending(), currency: 'usd' }])).toEqual(before);
  });

  it('refuses a key posted again with other content', async () => {
    const key = unique();
    const first = await ledger.postAlone(charge(key, 1000));
    const count = await transactionCount();
    const error = await refusal(ledger.postAlone(charge(key, 2000)));
    expect(error.code).toBe('posting_key_reused');
    expect(error.message).toContain(first.id);
    expect(await transactionCount()).toBe(count);
  });

  it.each<[string, PostInput['entries'], string]>([
    [
      'entries that do not sum to zero',
      [
        { account: clearing, amount: -1000, currency: 'usd' },
        { account: external, amount: 999, currency: 'usd' },
      ],
      'ledger_unbalanced',
    ],
    [
      'entries that balance only across currencies',
      [
        { account: clearing, amount: -1000, currency: 'usd' },
        { account: external, amount: 1000, currency: 'eur' },
      ],
      'ledger_unbalanced',
    ],
    [
      'the same account twice',
      [
        { account: clearing, amount: -1000, currency: 'usd' },
        { account: clearing, amount: 1000, currency: 'usd' },
      ],
      'ledger_duplicate_account',
    ],
    ['a single entry', [{ account: clearing, amount: 0, currency: 'usd' }], 'ledger_invalid_posting'],
    [
      'a zero amount',
      [
        { account: clearing, amount: 0, currency: 'usd' },
        { account: external, amount: 0, currency: 'usd' },
      ],
      'ledger_invalid_posting',
    ],
    [
      'a fractional amount',
      [
        { account: clearing, amount: -1.5, currency: 'usd' },
        { account: external, amount: 1.5, currency: 'usd' },
      ],
      'ledger_invalid_posting',
    ],
    [
      'an amount beyond the limit',
      [
        { account: clearing, amount: -1e13, currency: 'usd' },
        { account: external, amount: 1e13, currency: 'usd' },
      ],
      'ledger_invalid_posting',
    ],
    [
      'a malformed currency',
      [
        { account: clearing, amount: -5, currency: 'us' },
        { account: external, amount: 5, currency: 'us' },
      ],
      'ledger_invalid_posting',
    ],
    [
      'the accounts of two merchants',
      [
        { account: pending('acct_one'), amount: -5, currency: 'usd' },
        { account: pending('acct_two'), amount: 5, currency: 'usd' },
      ],
      'ledger_mixed_merchants',
    ],
  ])('refuses %s and writes nothing', async (_name, entries, code) => {
    const count = await transactionCount();
    const error = await refusal(
      ledger.postAlone({
        key: unique(),
        kind: 'adjustment',
        source: { type: 'test', id: 'x' },
        livemode: false,
        entries,
      }),
    );
    expect(error.code).toBe(code);
    expect(await transactionCount()).toBe(count);
  });

  it('accepts a transaction that balances in each of two currencies', async () => {
    const posted = await ledger.postAlone({
      key: unique(),
      kind: 'settlement',
      source: { type: 'settlement', id: 'st_1' },
      livemode: false,
      entries: [
        { account: clearing, amount: 700, currency: 'usd' },
        { account: external, amount: -700, currency: 'usd' },
        { account: clearing, amount: 300, currency: 'eur' },
        { account: external, amount: -300, currency: 'eur' },
      ],
    });
    expect(posted.replayed).toBe(false);
  });

  it.each([0, -100, 2.5])('refuses a transfer of %s', async (amount) => {
    const error = await refusal(
      ledger.transferAlone({
        key: unique(),
        source: { type: 'test', id: 'x' },
        livemode: false,
        from: external,
        to: wallet(`cus_${unique()}`),
        amount,
        currency: 'usd',
      }),
    );
    expect(error.code).toBe('ledger_invalid_posting');
  });

  it('refuses to take a wallet below zero, leaving the caller able to commit other work', async () => {
    const customer = `cus_${unique()}`;
    await ledger.transferAlone({
      key: unique(),
      kind: 'wallet_topup',
      source: { type: 'charge', id: 'ch_topup' },
      livemode: false,
      from: clearing,
      to: wallet(customer),
      amount: 500,
      currency: 'usd',
    });
    const count = await transactionCount();
    const outcome = await t.service.database.db.transaction().execute(async (trx) => {
      const error = await refusal(
        ledger.transfer(trx, {
          key: unique(),
          source: { type: 'payment_intent', id: 'pi_1' },
          livemode: false,
          from: wallet(customer),
          to: pending(),
          amount: 501,
          currency: 'usd',
        }),
      );
      // The refusal wrote nothing and did not break the transaction: the exact balance still posts.
      const spent = await ledger.transfer(trx, {
        key: unique(),
        kind: 'payment',
        source: { type: 'payment_intent', id: 'pi_2' },
        livemode: false,
        from: wallet(customer),
        to: pending(),
        amount: 500,
        currency: 'usd',
      });
      return { error, spent };
    });
    expect(outcome.error.code).toBe('balance_insufficient');
    expect(outcome.spent.replayed).toBe(false);
    expect(await transactionCount()).toBe(count + 1);
    const [balance] = await ledger.balances(false, [{ account: wallet(customer), currency: 'usd' }]);
    expect(balance).toEqual({ balance: 0, version: 2 });
  });

  it('leaves no trace of a posting whose caller rolled back, and can create its accounts again', async () => {
    const customer = `cus_${unique()}`;
    const input: PostInput = {
      key: unique(),
      kind: 'wallet_topup',
      source: { type: 'charge', id: 'ch_x' },
      livemode: false,
      entries: [
        { account: clearing, amount: -300, currency: 'usd' },
        { account: wallet(customer), amount: 300, currency: 'usd' },
      ],
    };
    await expect(
      t.service.database.db.transaction().execute(async (trx) => {
        await ledger.post(trx, input);
        throw new Error('the payment failed after posting');
      }),
    ).rejects.toThrow('the payment failed');
    expect(await ledger.balances(false, [{ account: wallet(customer), currency: 'usd' }])).toEqual([
      { balance: 0, version: 0 },
    ]);
    const posted = await ledger.postAlone(input);
    expect(posted.replayed).toBe(false);
    expect(await ledger.balances(false, [{ account: wallet(customer), currency: 'usd' }])).toEqual([
      { balance: 300, version: 1 },
    ]);
    expect((await verifyLedger(t.service.database.db)).ok).toBe(true);
  });

  it.each([
    ['update ledger_entries', sql`update ledger_entries set amount = amount + 1`],
    ['delete from ledger_entries', sql`delete from ledger_entries`],
    ['update ledger_transactions', sql`update ledger_transactions set kind = 'refund'`],
    ['delete from ledger_transactions', sql`delete from ledger_transactions`],
    ['truncate ledger_entries', sql`truncate ledger_entries`],
    ['update ledger_accounts', sql`update ledger_accounts set may_go_negative = true`],
  ])('refuses %s in the database', async (_name, statement) => {
    await ledger.postAlone(charge(unique()));
    await expect(statement.execute(t.service.database.db)).rejects.toThrow(/append-only/);
    expect((await verifyLedger(t.service.database.db)).ok).toBe(true);
  });

  it('refuses a negative wallet balance in the database even if the service were bypassed', async () => {
    const customer = `cus_${unique()}`;
    await ledger.transferAlone({
      key: unique(),
      kind: 'wallet_topup',
      source: { type: 'charge', id: 'ch_y' },
      livemode: false,
      from: clearing,
      to: wallet(customer),
      amount: 10,
      currency: 'usd',
    });
    await expect(
      sql`update ledger_balances set balance = -1 where not may_go_negative`.execute(t.service.database.db),
    ).rejects.toThrow(/check/);
  });
});

describe('ledger batches', () => {
  it('posts a batch in order, each posting written or refused on its own', async () => {
    const customer = `cus_${unique()}`;
    const key = unique();
    const topUp = (k: string, amount: number): PostInput => ({
      key: k,
      kind: 'wallet_topup',
      source: { type: 'charge', id: 'ch_b' },
      livemode: false,
      entries: [
        { account: clearing, amount: -amount, currency: 'usd' },
        { account: wallet(customer), amount, currency: 'usd' },
      ],
    });
    const spend = (k: string, amount: number): PostInput => ({
      key: k,
      kind: 'payment',
      source: { type: 'payment_intent', id: 'pi_b' },
      livemode: false,
      entries: [
        { account: wallet(customer), amount: -amount, currency: 'usd' },
        { account: pending(), amount, currency: 'usd' },
      ],
    });
    const outcomes = await ledger.postBatch([
      spend(unique(), 1), // nothing in the wallet yet
      topUp(key, 100),
      spend(unique(), 60),
      spend(unique(), 60), // only 40 left
      topUp(key, 100), // the same key again in the batch: the first posting
      topUp(key, 999), // the same key with other content
      { ...spend(unique(), 0) },
      spend(unique(), 40),
    ]);
    const summary = outcomes.map((o) =>
      'posted' in o ? (o.posted.replayed ? 'replayed' : 'posted') : o.refused.reason,
    );
    expect(summary).toEqual([
      'balance_insufficient',
      'posted',
      'posted',
      'balance_insufficient',
      'replayed',
      'posting_key_reused',
      'ledger_invalid_posting',
      'posted',
    ]);
    expect(await ledger.balances(false, [{ account: wallet(customer), currency: 'usd' }])).toEqual([
      { balance: 0, version: 3 },
    ]);
    expect((await verifyLedger(t.service.database.db)).ok).toBe(true);
  });
});

describe('posting builders', () => {
  const common = {
    key: 'k',
    livemode: false,
    merchantId: 'acct_b',
    currency: 'usd',
    source: { type: 'charge', id: 'ch_b' },
  };
  it.each([
    [
      'a negative charge amount',
      () => postings.chargeSucceeded({ ...common, provider: 'stripe', amount: -100, fee: 0 }),
    ],
    [
      'a negative fee',
      () => postings.chargeSucceeded({ ...common, provider: 'stripe', amount: 100, fee: -1 }),
    ],
    [
      'a fee above the amount',
      () => postings.chargeSucceeded({ ...common, provider: 'stripe', amount: 100, fee: 101 }),
    ],
    ['a fractional refund', () => postings.refund({ ...common, provider: 'stripe', amount: 10.5 })],
    [
      'a zero top-up',
      () => postings.walletTopUp({ ...common, provider: 'stripe', customerId: 'cus_b', amount: 0 }),
    ],
  ])('refuses %s', (_name, build) => {
    expect(build).toThrow(LedgerError);
  });

  it('leaves out a zero fee rather than posting a zero entry', async () => {
    const input = postings.chargeSucceeded({
      ...common,
      key: unique(),
      provider: 'stripe',
      amount: 100,
      fee: 0,
    });
    expect(input.entries).toHaveLength(2);
    expect((await ledger.postAlone(input)).replayed).toBe(false);
  });
});
