import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as postings from '../src/modules/ledger/ledger.postings.js';
import type { LedgerService } from '../src/modules/ledger/ledger.service.js';
import { verifyLedger } from '../src/modules/ledger/ledger.verify.js';
import { eventually, unique } from './ledger-support.js';
import { createMerchant, startTestService, type TestService } from './support/service.js';
import { expectSameShape, stripeFixtures } from './support/stripe-shape.js';

let t: TestService;
let ledger: LedgerService;
beforeAll(async () => {
  t = await startTestService();
  ledger = t.service.services.ledger;
});
afterAll(async () => {
  await t.close();
});

const fixtures = stripeFixtures;

type Funds = { amount: number; currency: string }[];
type Balance = { object: string; available: Funds; pending: Funds; livemode: boolean };
type BalanceTransaction = Record<string, unknown> & { id: string; status: string; type: string };
type List = { object: string; data: BalanceTransaction[]; has_more: boolean; url: string };

const amountIn = (funds: Funds, currency: string) => funds.find((f) => f.currency === currency)?.amount ?? 0;

function charge(merchantId: string, amount: number, fee: number, currency = 'usd', livemode = false) {
  const id = `ch_${unique()}`;
  return ledger.postAlone(
    postings.chargeSucceeded({
      key: postings.postingKey(`att_${unique()}`, 'charge.succeeded'),
      livemode,
      merchantId,
      currency,
      provider: 'stripe',
      amount,
      fee,
      source: { type: 'charge', id },
      description: 'Order 42',
    }),
  );
}

describe('balance and balance transactions', () => {
  it("shows a charge as pending funds and a balance transaction in Stripe's shape", async () => {
    const other = await createMerchant(t);
    const before = await other.api.get<Balance>('/v1/balance');
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ object: 'balance', livemode: false });
    expect(amountIn(before.body.pending, 'usd')).toBe(0);
    expectSameShape(before.body, fixtures.resources.balance);

    const posted = await charge(other.id, 2000, 88);
    const balance = await other.api.get<Balance>('/v1/balance');
    expect(amountIn(balance.body.pending, 'usd')).toBe(1912);
    expect(amountIn(balance.body.available, 'usd')).toBe(0);
    expectSameShape(balance.body, fixtures.resources.balance);

    const txn = await other.api.get<BalanceTransaction>(`/v1/balance_transactions/${posted.id}`);
    expect(txn.status).toBe(200);
    expect(txn.body).toMatchObject({
      id: posted.id,
      object: 'balance_transaction',
      amount: 2000,
      fee: 88,
      net: 1912,
      currency: 'usd',
      type: 'charge',
      reporting_category: 'charge',
      status: 'pending',
      description: 'Order 42',
    });
    expect(txn.body.source).toMatch(/^ch_/);
    expect(txn.body.available_on).toBe((txn.body.created as number) + 2 * 86_400);
    expect(txn.body.fee_details).toEqual([
      { amount: 88, application: null, currency: 'usd', description: 'Processing fees', type: 'stripe_fee' },
    ]);
    expectSameShape(txn.body, fixtures.resources.balance_transaction);
  });

  it("answers 404 for another merchant's or the other mode's balance transaction", async () => {
    const other = await createMerchant(t);
    const mine = await charge(t.merchantId, 1000, 30);
    const live = await charge(t.merchantId, 5000, 30, 'usd', true);
    const theirs = await other.api.get(`/v1/balance_transactions/${mine.id}`);
    expect(theirs.status).toBe(404);
    expect(theirs.body).toMatchObject({ error: { type: 'invalid_request_error', code: 'resource_missing' } });
    expect((await t.merchant.get(`/v1/balance_transactions/${live.id}`)).status).toBe(404);
    const list = await other.api.get<List>('/v1/balance_transactions');
    expect(list.body.data).toEqual([]);
    const balance = await t.merchant.get<Balance>('/v1/balance');
    // The live charge's 4970 is not in the test-mode balance.
    const { body } = await t.merchant.get<List>('/v1/balance_transactions', { limit: 100 });
    const testPending = body.data
      .filter((b) => b.status === 'pending')
      .reduce((s, b) => s + (b.net as number), 0);
    expect(amountIn(balance.body.pending, 'usd')).toBe(testPending);
  });

  it('shows refunds and disputes with their own types, and one balance per currency', async () => {
    const other = await createMerchant(t);
    const common = { livemode: false, merchantId: other.id, source: { type: 'charge', id: 'ch_1' } };
    await charge(other.id, 5000, 150, 'eur');
    await ledger.postAlone(
      postings.refund({ ...common, key: unique(), currency: 'eur', provider: 'stripe', amount: 1000 }),
    );
    await ledger.postAlone(
      postings.disputeOpened({ ...common, key: unique(), currency: 'eur', amount: 2000, fee: 1500 }),
    );
    const balance = await other.api.get<Balance>('/v1/balance');
    expect(amountIn(balance.body.pending, 'eur')).toBe(4850);
    expect(amountIn(balance.body.available, 'eur')).toBe(-1000 - 3500);
    const refunds = await other.api.get<List>('/v1/balance_transactions', { type: 'refund' });
    expect(refunds.body.data).toHaveLength(1);
    expect(refunds.body.data[0]).toMatchObject({ amount: -1000, fee: 0, net: -1000, status: 'available' });
    const disputes = await other.api.get<List>('/v1/balance_transactions', { type: 'adjustment' });
    expect(disputes.body.data[0]).toMatchObject({
      amount: -2000,
      fee: 1500,
      net: -3500,
      reporting_category: 'dispute',
    });
    const usd = await other.api.get<List>('/v1/balance_transactions', { currency: 'usd' });
    expect(usd.body.data).toEqual([]);
  });

  it('pages newest first with starting_after and ending_before, and filters by created', async () => {
    const other = await createMerchant(t);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await charge(other.id, 100 + i, 1)).id);
    const first = await other.api.get<List>('/v1/balance_transactions', { limit: 2 });
    expect(first.body).toMatchObject({ object: 'list', has_more: true, url: '/v1/balance_transactions' });
    const second = await other.api.get<List>('/v1/balance_transactions', {
      limit: 2,
      starting_after: first.body.data[1]?.id,
    });
    const third = await other.api.get<List>('/v1/balance_transactions', {
      limit: 2,
      starting_after: second.body.data[1]?.id,
    });
    expect(third.body.has_more).toBe(false);
    const seen = [...first.body.data, ...second.body.data, ...third.body.data].map((b) => b.id);
    expect(new Set(seen)).toEqual(new Set(ids));
    const back = await other.api.get<List>('/v1/balance_transactions', {
      limit: 2,
      ending_before: second.body.data[0]?.id,
    });
    expect(back.body.data.map((b) => b.id)).toEqual(first.body.data.map((b) => b.id));

    const created = first.body.data[0]?.created as number;
    const none = await other.api.get<List>('/v1/balance_transactions', { created: { gt: created } });
    expect(none.body.data).toEqual([]);
    const all = await other.api.get<List>('/v1/balance_transactions', { created: { gte: created - 1 } });
    expect(all.body.data).toHaveLength(5);
    const bad = await other.api.get('/v1/balance_transactions', { type: 'bogus' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { param: 'type' } });
  });

  it('moves pending funds to available once available_on passes, once only', async () => {
    const other = await createMerchant(t);
    const posted = await charge(other.id, 10_000, 320);
    const early = await charge(other.id, 500, 0);
    await t.api.post('/_test/clock', { advance_seconds: 86_400 });
    const later = await charge(other.id, 700, 0);
    let balance = await other.api.get<Balance>('/v1/balance');
    expect(amountIn(balance.body.available, 'usd')).toBe(0);

    // Past the first two charges' available_on (2 days) but not the third's.
    await t.api.post('/_test/clock', { advance_seconds: 86_400 + 60 });
    balance = await eventually('the release job to run', async () => {
      const reply = await other.api.get<Balance>('/v1/balance');
      return amountIn(reply.body.available, 'usd') > 0 ? reply : undefined;
    });
    expect(amountIn(balance.body.available, 'usd')).toBe(9680 + 500);
    expect(amountIn(balance.body.pending, 'usd')).toBe(700);
    const txn = await other.api.get<BalanceTransaction>(`/v1/balance_transactions/${posted.id}`);
    expect(txn.body.status).toBe('available');
    expect(
      (await other.api.get<BalanceTransaction>(`/v1/balance_transactions/${early.id}`)).body.status,
    ).toBe('available');
    expect(
      (await other.api.get<BalanceTransaction>(`/v1/balance_transactions/${later.id}`)).body.status,
    ).toBe('pending');

    // Running the job again moves nothing twice.
    expect(await ledger.releaseDue(t.service.clock.now())).toBe(0);
    const again = await other.api.get<Balance>('/v1/balance');
    expect(again.body).toEqual(balance.body);
    // Releases are not balance transactions of their own.
    const list = await other.api.get<List>('/v1/balance_transactions');
    expect(list.body.data).toHaveLength(3);
    expect((await verifyLedger(t.service.database.db)).ok).toBe(true);
  });

  it('needs a key with the balance scope', async () => {
    expect((await t.api.get('/v1/balance')).status).toBe(401);
    expect((await t.api.get('/v1/balance_transactions')).status).toBe(401);
  });
});
