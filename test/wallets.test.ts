// Wallets over HTTP: create, retrieve, list, fund (directly and by card), entries, close, tenancy and
// the restricted-key scope. Balances come from the ledger; `payctl ledger verify` stays clean.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../src/modules/ledger/ledger.verify.js';
import { paypalControl } from './support/provider-harness.js';
import { createMerchant, startTestService, type TestService } from './support/service.js';
import { waitFor } from './support/wait.js';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t.close();
});

type Wallet = {
  id: string;
  object: string;
  customer: string;
  currency: string;
  status: string;
  balance: { available: number; held: number };
  livemode: boolean;
  created: number;
  metadata: Record<string, string>;
};
type Entry = { id: string; amount: number; type: string; wallet: string };

async function customer(api = t.merchant): Promise<string> {
  const created = await api.post<{ id: string }>('/v1/customers', { name: 'Wallet owner' });
  return created.body.id;
}

async function wallet(currency = 'usd', api = t.merchant): Promise<Wallet> {
  const created = await api.post<Wallet>('/v1/wallets', { customer: await customer(api), currency });
  expect(created.status).toBe(200);
  return created.body;
}

describe('wallets', () => {
  it('creates, retrieves and lists a wallet with a zero balance and records wallet.created', async () => {
    const owner = await customer();
    const created = await t.merchant.post<Wallet>('/v1/wallets', {
      customer: owner,
      currency: 'EUR',
      metadata: { purpose: 'tests' },
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      object: 'wallet',
      customer: owner,
      currency: 'eur',
      status: 'open',
      balance: { available: 0, held: 0 },
      livemode: false,
      metadata: { purpose: 'tests' },
    });
    expect(created.body.id).toMatch(/^wal_/);
    const fetched = await t.merchant.get<Wallet>(`/v1/wallets/${created.body.id}`);
    expect(fetched.body).toEqual(created.body);
    const listed = await t.merchant.get<{ data: Wallet[] }>('/v1/wallets', { customer: owner });
    expect(listed.body.data.map((w) => w.id)).toEqual([created.body.id]);
    const events = await t.merchant.get<{ data: { type: string; data: { object: { id: string } } }[] }>(
      '/v1/events',
      { limit: 5 },
    );
    expect(events.body.data.find((e) => e.type === 'wallet.created')?.data.object.id).toBe(created.body.id);
  });

  it('allows one open wallet per customer and currency', async () => {
    const owner = await customer();
    expect((await t.merchant.post('/v1/wallets', { customer: owner, currency: 'usd' })).status).toBe(200);
    const second = await t.merchant.post<{ error: { code: string; param: string } }>('/v1/wallets', {
      customer: owner,
      currency: 'usd',
    });
    expect(second.status).toBe(400);
    expect(second.body.error).toMatchObject({ code: 'resource_already_exists', param: 'currency' });
    expect((await t.merchant.post('/v1/wallets', { customer: owner, currency: 'gbp' })).status).toBe(200);
  });

  it('refuses an unknown currency and an unknown customer, naming them', async () => {
    const owner = await customer();
    const bad = await t.merchant.post<{ error: { param: string } }>('/v1/wallets', {
      customer: owner,
      currency: 'xyz',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('currency');
    const missing = await t.merchant.post<{ error: { param: string } }>('/v1/wallets', {
      customer: 'cus_nope',
      currency: 'usd',
    });
    expect(missing.status).toBe(404);
    expect(missing.body.error.param).toBe('customer');
    const listed = await t.merchant.get<{ data: Wallet[] }>('/v1/wallets', { customer: owner });
    expect(listed.body.data).toEqual([]);
  });

  it('funds directly, lists entries newest first with pagination, and records wallet.funded', async () => {
    const w = await wallet();
    for (const amount of [100, 200, 300]) {
      const funded = await t.merchant.post<Wallet>(`/v1/wallets/${w.id}/fund`, { amount });
      expect(funded.status).toBe(200);
    }
    const fetched = await t.merchant.get<Wallet>(`/v1/wallets/${w.id}`);
    expect(fetched.body.balance).toEqual({ available: 600, held: 0 });
    const first = await t.merchant.get<{ data: Entry[]; has_more: boolean }>(`/v1/wallets/${w.id}/entries`, {
      limit: 2,
    });
    expect(first.body.data.map((e) => e.amount)).toEqual([300, 200]);
    expect(first.body.has_more).toBe(true);
    expect(first.body.data[0]).toMatchObject({
      object: 'wallet_entry',
      type: 'wallet_funding',
      wallet: w.id,
    });
    const next = await t.merchant.get<{ data: Entry[]; has_more: boolean }>(`/v1/wallets/${w.id}/entries`, {
      limit: 2,
      starting_after: first.body.data[1]?.id,
    });
    expect(next.body.data.map((e) => e.amount)).toEqual([100]);
    expect(next.body.has_more).toBe(false);
    const back = await t.merchant.get<{ data: Entry[] }>(`/v1/wallets/${w.id}/entries`, {
      ending_before: next.body.data[0]?.id,
    });
    expect(back.body.data.map((e) => e.amount)).toEqual([300, 200]);
    const events = await t.merchant.get<{ data: { type: string }[] }>('/v1/events', { limit: 3 });
    expect(events.body.data.map((e) => e.type)).toEqual(['wallet.funded', 'wallet.funded', 'wallet.funded']);
  });

  it('honours Idempotency-Key on fund: a replay answers the same and credits once', async () => {
    const w = await wallet();
    const key = `fund-${w.id}`;
    const first = await t.merchant.post<Wallet>(
      `/v1/wallets/${w.id}/fund`,
      { amount: 500 },
      { headers: { 'idempotency-key': key } },
    );
    const again = await t.merchant.post<Wallet>(
      `/v1/wallets/${w.id}/fund`,
      { amount: 500 },
      { headers: { 'idempotency-key': key } },
    );
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    const other = await t.merchant.post(
      `/v1/wallets/${w.id}/fund`,
      { amount: 501 },
      { headers: { 'idempotency-key': key } },
    );
    expect(other.status).toBe(400);
    expect((await t.merchant.get<Wallet>(`/v1/wallets/${w.id}`)).body.balance.available).toBe(500);
  });

  it.each([
    [{ amount: -5 }, 'amount'],
    [{ amount: 1.5 }, 'amount'],
    [{ amount: 0 }, 'amount'],
    [{ amount: 'ten' }, 'amount'],
  ])('refuses fund %j naming %s, and posts nothing', async (body, param) => {
    const w = await wallet();
    const refused = await t.merchant.post<{ error: { param: string } }>(`/v1/wallets/${w.id}/fund`, body);
    expect(refused.status).toBe(400);
    expect(refused.body.error.param).toBe(param);
    const entries = await t.merchant.get<{ data: Entry[] }>(`/v1/wallets/${w.id}/entries`);
    expect(entries.body.data).toEqual([]);
  });

  it('funds by card: the payment intent succeeds and credits the wallet once', async () => {
    const w = await wallet();
    const paid = await t.merchant.post<{ id: string; status: string; metadata: Record<string, string> }>(
      `/v1/wallets/${w.id}/fund`,
      { amount: 2500, payment_method: 'pm_card_visa' },
    );
    expect(paid.status).toBe(200);
    expect(paid.body.status).toBe('succeeded');
    expect(paid.body.metadata.wallet).toBe(w.id);
    const fetched = await t.merchant.get<Wallet>(`/v1/wallets/${w.id}`);
    expect(fetched.body.balance).toEqual({ available: 2500, held: 0 });
    const entries = await t.merchant.get<{ data: Entry[] }>(`/v1/wallets/${w.id}/entries`);
    expect(entries.body.data.map((e) => [e.type, e.amount])).toEqual([['wallet_topup', 2500]]);
    // A top-up is not merchant revenue: it cannot be refunded out of the merchant's balance.
    const refund = await t.merchant.post<{ error: { code: string } }>('/v1/refunds', {
      payment_intent: paid.body.id,
    });
    expect(refund.status).toBe(400);
    expect(refund.body.error.code).toBe('charge_is_wallet_topup');
    const declined = await t.merchant.post<{ error: { type: string } }>(`/v1/wallets/${w.id}/fund`, {
      amount: 1000,
      payment_method: 'pm_card_chargeDeclined',
    });
    expect(declined.status).toBe(402);
    expect((await t.merchant.get<Wallet>(`/v1/wallets/${w.id}`)).body.balance.available).toBe(2500);
  });

  it('funds by PayPal: approved at PayPal, back through the return, credited once despite a reload and the webhooks', async () => {
    const w = await wallet();
    const paypal = paypalControl(t);
    const capturesBefore = (await paypal.get<{ captures: unknown[] }>('/_emulator/state')).body.captures
      .length;
    const method = await t.merchant.post<{ id: string }>('/v1/payment_methods', { type: 'paypal' });
    expect(method.status, method.text).toBe(200);
    const returnUrl = 'https://shop.example/wallet/funded';
    const funding = await t.merchant.post<{
      id: string;
      status: string;
      next_action: { type: string; redirect_to_url: { url: string } } | null;
    }>(`/v1/wallets/${w.id}/fund`, { amount: 1800, payment_method: method.body.id, return_url: returnUrl });
    expect(funding.status, funding.text).toBe(200);
    expect(funding.body.status).toBe('requires_action');
    // Nothing is credited before the payer approves.
    expect((await t.merchant.get<Wallet>(`/v1/wallets/${w.id}`)).body.balance.available).toBe(0);
    const redirect = funding.body.next_action?.redirect_to_url.url as string;
    expect(redirect.startsWith(paypal.baseUrl)).toBe(true);

    const approved = await fetch(`${redirect}&action=approve`, { redirect: 'manual' });
    expect(approved.status).toBe(302);
    const hop = approved.headers.get('location') as string;
    expect(hop).toMatch(/\/return\/paypal\/pa_/);
    for (const visit of [1, 2]) {
      // The shopper comes back through our return hop, then reloads it.
      const back = await fetch(hop, { redirect: 'manual' });
      expect(back.status, `return visit ${visit}`).toBe(302);
      const merchantUrl = new URL(back.headers.get('location') as string);
      expect(merchantUrl.origin + merchantUrl.pathname).toBe(returnUrl);
      expect(merchantUrl.searchParams.get('payment_intent')).toBe(funding.body.id);
      expect(merchantUrl.searchParams.get('redirect_status')).toBe('succeeded');
    }
    const intent = await t.merchant.get<{ status: string }>(`/v1/payment_intents/${funding.body.id}`);
    expect(intent.body.status).toBe('succeeded');

    // PayPal's own webhooks for the order (approved, capture completed) arrive as well.
    const { provider_payment_id: order } = await t.service.database.db
      .selectFrom('payment_attempts')
      .select('provider_payment_id')
      .where('payment_intent_id', '=', funding.body.id)
      .executeTakeFirstOrThrow();
    await waitFor('PayPal webhooks for the order to be handled', async () => {
      const rows = await t.service.database.db
        .selectFrom('webhook_inbox')
        .select(['type', 'status'])
        .where('provider', '=', 'paypal')
        .where('subject', '=', order as string)
        .execute();
      const types = rows.map((row) => row.type);
      const done = rows.every((row) => row.status === 'processed' || row.status === 'ignored');
      return done && types.includes('CHECKOUT.ORDER.APPROVED') && types.includes('PAYMENT.CAPTURE.COMPLETED');
    });

    expect((await t.merchant.get<Wallet>(`/v1/wallets/${w.id}`)).body.balance).toEqual({
      available: 1800,
      held: 0,
    });
    const entries = await t.merchant.get<{ data: Entry[] }>(`/v1/wallets/${w.id}/entries`);
    expect(entries.body.data.map((e) => [e.type, e.amount])).toEqual([['wallet_topup', 1800]]);
    const postings = await t.service.database.db
      .selectFrom('ledger_transactions')
      .select('kind')
      .where('source_id', '=', funding.body.id)
      .execute();
    expect(postings.map((row) => row.kind)).toEqual(['wallet_topup']);
    const funded = await t.merchant.get<{ data: { type: string; data: { object: { id: string } } }[] }>(
      '/v1/events',
      { type: 'wallet.funded', limit: 100 },
    );
    expect(funded.body.data.filter((event) => event.data.object.id === w.id)).toHaveLength(1);
    const captures = (await paypal.get<{ captures: unknown[] }>('/_emulator/state')).body.captures.length;
    expect(captures).toBe(capturesBefore + 1);
  });

  it('closes only at zero balance, then refuses funding', async () => {
    const w = await wallet();
    await t.merchant.post(`/v1/wallets/${w.id}/fund`, { amount: 100 });
    const refused = await t.merchant.post<{ error: { code: string } }>(`/v1/wallets/${w.id}/close`);
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('wallet_not_empty');
    const empty = await wallet();
    const closed = await t.merchant.post<Wallet>(`/v1/wallets/${empty.id}/close`);
    expect(closed.status).toBe(200);
    expect(closed.body.status).toBe('closed');
    expect((await t.merchant.post(`/v1/wallets/${empty.id}/fund`, { amount: 100 })).status).toBe(400);
    expect((await t.merchant.post(`/v1/wallets/${empty.id}/close`)).status).toBe(400);
    // A closed wallet frees its customer and currency for a new one.
    expect((await t.merchant.post('/v1/wallets', { customer: empty.customer, currency: 'usd' })).status).toBe(
      200,
    );
  });

  it("answers 404 for another merchant's wallet and for the other mode", async () => {
    const w = await wallet();
    const other = await createMerchant(t);
    expect((await other.api.get(`/v1/wallets/${w.id}`)).status).toBe(404);
    expect((await other.api.post(`/v1/wallets/${w.id}/fund`, { amount: 100 })).status).toBe(404);
    expect((await other.api.get(`/v1/wallets/${w.id}/entries`)).status).toBe(404);
    expect((await other.api.post(`/v1/wallets/${w.id}/close`)).status).toBe(404);
    expect((await other.api.get<{ data: Wallet[] }>('/v1/wallets')).body.data).toEqual([]);
  });

  it('lets a restricted key fund directly only with the wallets scope', async () => {
    const w = await wallet();
    const make = async (scopes: string[]) => {
      const key = await t.admin.post<{ secret: string }>('/admin/keys', {
        merchant: t.merchantId,
        kind: 'restricted',
        scopes,
      });
      expect(key.status, key.text).toBe(200);
      return t.api.withKey(key.body.secret);
    };
    const readOnly = await make(['wallets:read']);
    expect((await readOnly.get(`/v1/wallets/${w.id}`)).status).toBe(200);
    expect((await readOnly.post(`/v1/wallets/${w.id}/fund`, { amount: 100 })).status).toBe(403);
    const writer = await make(['wallets:write']);
    expect((await writer.post(`/v1/wallets/${w.id}/fund`, { amount: 100 })).status).toBe(200);
    // Funding by card makes a payment intent: that needs its own scope.
    const byCard = await writer.post(`/v1/wallets/${w.id}/fund`, {
      amount: 100,
      payment_method: 'pm_card_visa',
    });
    expect(byCard.status).toBe(403);
  });

  it('leaves the ledger clean', async () => {
    const report = await verifyLedger(t.service.database.db);
    expect(report.ok).toBe(true);
  });
});
