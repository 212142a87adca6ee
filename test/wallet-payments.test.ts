// Paying from a wallet over HTTP: payment_method_types[]=wallet with a customer pays from that customer's
// wallet in the payment's currency, through the same attempts, idempotency, capture, cancel and refunds
// as cards. Too little available balance is a 402 insufficient_funds with nothing posted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../src/modules/ledger/ledger.verify.js';
import { startTestService, type TestService } from './support/service.js';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t.close();
});

type Wallet = { id: string; customer: string; balance: { available: number; held: number } };
type Intent = {
  id: string;
  status: string;
  amount_received: number;
  amount_capturable: number;
  latest_charge: string | null;
  payment_method: string | null;
};
type ErrorBody = { error: { type: string; code: string; decline_code?: string; param?: string } };

async function fundedWallet(amount: number, currency = 'usd'): Promise<Wallet> {
  const customer = await t.merchant.post<{ id: string }>('/v1/customers', { name: 'Payer' });
  const wallet = await t.merchant.post<Wallet>('/v1/wallets', { customer: customer.body.id, currency });
  if (amount > 0) await t.merchant.post(`/v1/wallets/${wallet.body.id}/fund`, { amount });
  return wallet.body;
}

const balanceOf = async (wallet: Wallet) =>
  (await t.merchant.get<Wallet>(`/v1/wallets/${wallet.id}`)).body.balance;

async function merchantPending(currency = 'usd'): Promise<number> {
  const balance = await t.merchant.get<{ pending: { amount: number; currency: string }[] }>('/v1/balance');
  return balance.body.pending.find((p) => p.currency === currency)?.amount ?? 0;
}

const pay = (wallet: Wallet, amount: number, extra: Record<string, unknown> = {}, key?: string) =>
  t.merchant.post<Intent>(
    '/v1/payment_intents',
    {
      amount,
      currency: 'usd',
      customer: wallet.customer,
      payment_method_types: ['wallet'],
      confirm: true,
      ...extra,
    },
    key ? { headers: { 'idempotency-key': key } } : {},
  );

/** Event types about these objects, sorted (events written by one transaction share their time). */
async function eventTypes(...objectIds: string[]): Promise<string[]> {
  const rows = await t.service.database.db
    .selectFrom('events')
    .select(['type', 'object_id'])
    .where('object_id', 'in', objectIds)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map((r) => r.type).sort();
}

const entryTypes = async (wallet: Wallet) =>
  (
    await t.merchant.get<{ data: { type: string; amount: number }[] }>(`/v1/wallets/${wallet.id}/entries`, {
      limit: 100,
    })
  ).body.data.map((e) => [e.type, e.amount]);

describe('paying from a wallet', () => {
  it('succeeds: the wallet drops and the merchant pending rises by the amount', async () => {
    const wallet = await fundedWallet(1000);
    const pendingBefore = await merchantPending();
    const paid = await pay(wallet, 300);
    expect(paid.status, JSON.stringify(paid.body)).toBe(200);
    expect(paid.body).toMatchObject({ status: 'succeeded', amount_received: 300, payment_method: wallet.id });
    expect(await balanceOf(wallet)).toEqual({ available: 700, held: 0 });
    expect(await merchantPending()).toBe(pendingBefore + 300);
    const charge = await t.merchant.get<{ paid: boolean; payment_method_details: { type: string } }>(
      `/v1/charges/${paid.body.latest_charge}`,
    );
    expect(charge.body).toMatchObject({ paid: true, payment_method_details: { type: 'wallet' } });
    expect(await entryTypes(wallet)).toEqual([
      ['payment', -300],
      ['wallet_funding', 1000],
    ]);
    // Confirmed in one transaction, with every event a two-phase confirmation writes.
    expect(await eventTypes(paid.body.id, paid.body.latest_charge as string)).toEqual([
      'charge.succeeded',
      'payment_intent.created',
      'payment_intent.succeeded',
    ]);
  });

  it('answers 402 insufficient_funds and posts nothing when the available balance is too small', async () => {
    const wallet = await fundedWallet(100);
    const pendingBefore = await merchantPending();
    const refused = await t.merchant.post<ErrorBody & { error: { payment_intent: Intent } }>(
      '/v1/payment_intents',
      {
        amount: 150,
        currency: 'usd',
        customer: wallet.customer,
        payment_method_types: ['wallet'],
        confirm: true,
      },
    );
    expect(refused.status).toBe(402);
    expect(refused.body.error).toMatchObject({
      type: 'card_error',
      code: 'insufficient_funds',
      decline_code: 'insufficient_funds',
    });
    expect(refused.body.error.payment_intent.status).toBe('requires_payment_method');
    expect(await balanceOf(wallet)).toEqual({ available: 100, held: 0 });
    expect(await merchantPending()).toBe(pendingBefore);
    expect(await entryTypes(wallet)).toEqual([['wallet_funding', 100]]);
    // The first try, rolled back when the ledger refused, left nothing: one attempt, declined.
    const intentId = refused.body.error.payment_intent.id;
    const attempts = await t.service.database.db
      .selectFrom('payment_attempts')
      .select(['status', 'phase'])
      .where('payment_intent_id', '=', intentId)
      .execute();
    expect(attempts).toEqual([{ status: 'failed', phase: 'settled' }]);
    expect(await eventTypes(intentId)).toEqual(['payment_intent.created', 'payment_intent.payment_failed']);
  });

  it('holds with capture_method=manual: held is not spendable; capture pays, the remainder returns', async () => {
    const wallet = await fundedWallet(1000);
    const held = await pay(wallet, 600, { capture_method: 'manual' });
    expect(held.body).toMatchObject({ status: 'requires_capture', amount_capturable: 600 });
    expect(await balanceOf(wallet)).toEqual({ available: 400, held: 600 });
    // Only the available part can be spent meanwhile.
    expect((await pay(wallet, 500)).status).toBe(402);
    const pendingBefore = await merchantPending();
    const captured = await t.merchant.post<Intent>(`/v1/payment_intents/${held.body.id}/capture`, {
      amount_to_capture: 450,
    });
    expect(captured.body).toMatchObject({ status: 'succeeded', amount_received: 450 });
    expect(await balanceOf(wallet)).toEqual({ available: 550, held: 0 });
    expect(await merchantPending()).toBe(pendingBefore + 450);
  });

  it('cancel releases the hold', async () => {
    const wallet = await fundedWallet(800);
    const held = await pay(wallet, 800, { capture_method: 'manual' });
    expect(await balanceOf(wallet)).toEqual({ available: 0, held: 800 });
    const closeRefused = await t.merchant.post(`/v1/wallets/${wallet.id}/close`);
    expect(closeRefused.status).toBe(400);
    const canceled = await t.merchant.post<Intent>(`/v1/payment_intents/${held.body.id}/cancel`);
    expect(canceled.body.status).toBe('canceled');
    expect(await balanceOf(wallet)).toEqual({ available: 800, held: 0 });
    expect(await entryTypes(wallet)).toEqual([
      ['wallet_release', 800],
      ['wallet_hold', -800],
      ['wallet_funding', 800],
    ]);
  });

  it('refunds back into the wallet, partially and then the rest', async () => {
    const wallet = await fundedWallet(1000);
    const paid = await pay(wallet, 1000);
    expect(await balanceOf(wallet)).toEqual({ available: 0, held: 0 });
    const partial = await t.merchant.post<{ status: string }>('/v1/refunds', {
      payment_intent: paid.body.id,
      amount: 400,
    });
    expect(partial.status, JSON.stringify(partial.body)).toBe(200);
    expect(partial.body.status).toBe('succeeded');
    expect(await balanceOf(wallet)).toEqual({ available: 400, held: 0 });
    const rest = await t.merchant.post('/v1/refunds', { payment_intent: paid.body.id });
    expect(rest.status).toBe(200);
    expect(await balanceOf(wallet)).toEqual({ available: 1000, held: 0 });
    const tooMuch = await t.merchant.post<ErrorBody>('/v1/refunds', {
      payment_intent: paid.body.id,
      amount: 1,
    });
    expect(tooMuch.status).toBe(400);
    expect(await balanceOf(wallet)).toEqual({ available: 1000, held: 0 });
  });

  it('replays a retried payment with the same Idempotency-Key and posts once', async () => {
    const wallet = await fundedWallet(500);
    const first = await pay(wallet, 200, {}, `wallet-pay-${wallet.id}`);
    const again = await pay(wallet, 200, {}, `wallet-pay-${wallet.id}`);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await balanceOf(wallet)).toEqual({ available: 300, held: 0 });
    // A refused payment is stored too: its retry answers the same 402 and still posts nothing.
    const refused = await pay(wallet, 400, {}, `wallet-short-${wallet.id}`);
    const refusedAgain = await pay(wallet, 400, {}, `wallet-short-${wallet.id}`);
    expect(refused.status).toBe(402);
    expect(refusedAgain.status).toBe(402);
    expect(refusedAgain.body).toEqual(refused.body);
    expect(await balanceOf(wallet)).toEqual({ available: 300, held: 0 });
  });

  it('creates and later confirms a wallet payment', async () => {
    const wallet = await fundedWallet(500);
    const created = await t.merchant.post<Intent>('/v1/payment_intents', {
      amount: 250,
      currency: 'usd',
      customer: wallet.customer,
      payment_method_types: ['wallet'],
    });
    expect(created.status).toBe(200);
    const confirmed = await t.merchant.post<Intent>(`/v1/payment_intents/${created.body.id}/confirm`);
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
    expect(confirmed.body.status).toBe('succeeded');
    expect(await balanceOf(wallet)).toEqual({ available: 250, held: 0 });
  });

  it.each([
    ['a currency the customer has no wallet in', { currency: 'eur' }, 'currency'],
    ['no customer', { customer: undefined }, 'customer'],
    ['a negative amount', { amount: -100 }, 'amount'],
    ['a float amount', { amount: 1.5 }, 'amount'],
  ])('refuses %s naming the parameter, and posts nothing', async (_name, change, param) => {
    const wallet = await fundedWallet(1000);
    const body: Record<string, unknown> = {
      amount: 100,
      currency: 'usd',
      customer: wallet.customer,
      payment_method_types: ['wallet'],
      confirm: true,
      ...change,
    };
    for (const key of Object.keys(body)) if (body[key] === undefined) delete body[key];
    const refused = await t.merchant.post<ErrorBody>('/v1/payment_intents', body);
    expect(refused.status).toBe(400);
    expect(refused.body.error.param).toBe(param);
    expect(await balanceOf(wallet)).toEqual({ available: 1000, held: 0 });
    expect(await entryTypes(wallet)).toEqual([['wallet_funding', 1000]]);
  });

  it('leaves the ledger clean', async () => {
    const report = await verifyLedger(t.service.database.db);
    expect(report.checks.filter((c) => c.violations > 0)).toEqual([]);
    expect(report.ok).toBe(true);
  });
});
