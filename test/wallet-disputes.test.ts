// A disputed card top-up of a wallet (DESIGN section 8): the wallet gives back what it still holds and
// the part already spent is the platform's loss, so a wallet never goes negative; a won dispute puts
// both back. The emulator's dispute events are held back while the top-up is spent (its webhook target
// delivers nothing meanwhile), then delivered to our webhook route as Stripe would send them.
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../src/modules/ledger/ledger.verify.js';
import { EMBEDDED_STRIPE_KEY } from '../src/providers/registry.js';
import { startTestService, type TestService } from './support/service.js';
import { waitFor } from './support/wait.js';

let t: TestService;
let emulator: string;
let secret: string;
beforeAll(async () => {
  t = await startTestService();
  emulator = t.service.providers.emulators.stripe?.url as string;
  secret = t.service.providers.stripeWebhookSecrets.at(-1) as string;
  // Hold every emulator webhook back; this suite delivers the dispute's events itself, when it chooses.
  await target(['none.such']);
});
afterAll(async () => {
  await target(undefined);
  await t.close();
});

async function target(enabledEvents: string[] | undefined) {
  const reply = await fetch(`${emulator}/_emulator/webhook_target`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      url: `${t.url}/webhooks/stripe`,
      secret,
      ...(enabledEvents ? { enabled_events: enabledEvents } : {}),
    }),
  });
  expect(reply.status).toBe(200);
}

type Wallet = { id: string; customer: string; balance: { available: number; held: number } };
type Dispute = { id: string; status: string; balance_transactions: { amount: number }[] };

async function fundedWallet(amount: number): Promise<{ wallet: Wallet; topUp: string }> {
  const customer = await t.merchant.post<{ id: string }>('/v1/customers', { name: 'Wallet owner' });
  const wallet = await t.merchant.post<Wallet>('/v1/wallets', {
    customer: customer.body.id,
    currency: 'usd',
  });
  expect(wallet.status, wallet.text).toBe(200);
  const topUp = await t.merchant.post<{ id: string; status: string }>(`/v1/wallets/${wallet.body.id}/fund`, {
    amount,
    payment_method: 'pm_card_createDispute',
  });
  expect(topUp.status, topUp.text).toBe(200);
  expect(topUp.body.status).toBe('succeeded');
  return { wallet: wallet.body, topUp: topUp.body.id };
}

async function spend(wallet: Wallet, amount: number) {
  const paid = await t.merchant.post<{ status: string }>('/v1/payment_intents', {
    amount,
    currency: 'usd',
    customer: wallet.customer,
    payment_method_types: ['wallet'],
    confirm: true,
  });
  expect(paid.status, paid.text).toBe(200);
  expect(paid.body.status).toBe('succeeded');
}

async function walletBalance(wallet: Wallet): Promise<number> {
  return (await t.merchant.get<Wallet>(`/v1/wallets/${wallet.id}`)).body.balance.available;
}

async function losses(): Promise<number> {
  const [losses] = await t.service.services.ledger.balances(false, [
    { account: { type: 'losses' }, currency: 'usd' },
  ]);
  return losses?.balance ?? 0;
}

/** The emulator's dispute events for our top-up, delivered to our webhook route, signed as Stripe signs. */
async function deliverDisputeEvents(topUp: string) {
  const attempt = await t.service.database.db
    .selectFrom('payment_attempts')
    .select('provider_payment_id')
    .where('payment_intent_id', '=', topUp)
    .executeTakeFirstOrThrow();
  const stripe = new Stripe(EMBEDDED_STRIPE_KEY, {
    host: new URL(emulator).hostname,
    port: Number(new URL(emulator).port),
    protocol: 'http',
  });
  const events = (await stripe.events.list({ limit: 100 })).data
    .filter(
      (event) =>
        event.type.startsWith('charge.dispute.') &&
        (event.data.object as Stripe.Dispute).payment_intent === attempt.provider_payment_id,
    )
    .reverse();
  expect(events.map((event) => event.type)).toContain('charge.dispute.created');
  for (const event of events) {
    const payload = JSON.stringify(event);
    const reply = await fetch(`${t.url}/webhooks/stripe`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret }),
      },
      body: payload,
    });
    expect(reply.status, await reply.text()).toBe(200);
  }
}

async function disputeOf(topUp: string, withdrawn = true): Promise<Dispute> {
  return waitFor('the top-up dispute', async () => {
    const list = await t.merchant.get<{ data: Dispute[] }>('/v1/disputes', { payment_intent: topUp });
    const dispute = list.body.data[0];
    return dispute && (!withdrawn || dispute.balance_transactions.length > 0) ? dispute : undefined;
  });
}

async function ledgerClean() {
  const report = await verifyLedger(t.service.database.db);
  expect(report.checks.filter((check) => check.violations > 0)).toEqual([]);
}

describe('a disputed wallet top-up', () => {
  it('spent and then disputed and lost: the wallet stays at 0 and the loss account carries it', async () => {
    const { wallet, topUp } = await fundedWallet(1000);
    await spend(wallet, 1000);
    expect(await walletBalance(wallet)).toBe(0);
    const lossesBefore = await losses();
    await deliverDisputeEvents(topUp);
    const dispute = await disputeOf(topUp);
    expect(await walletBalance(wallet)).toBe(0);
    expect(await losses()).toBe(lossesBefore - 1000);

    const closed = await t.merchant.post<Dispute>(`/v1/disputes/${dispute.id}/close`, {});
    expect(closed.status, closed.text).toBe(200);
    expect(closed.body.status).toBe('lost');
    expect(await walletBalance(wallet)).toBe(0);
    expect(await losses()).toBe(lossesBefore - 1000);
    await ledgerClean();
  });

  it('partly spent: the wallet gives back what it holds; won, both come back', async () => {
    const { wallet, topUp } = await fundedWallet(1000);
    await spend(wallet, 400);
    const lossesBefore = await losses();
    await deliverDisputeEvents(topUp);
    const dispute = await disputeOf(topUp);
    expect(await walletBalance(wallet)).toBe(0);
    expect(await losses()).toBe(lossesBefore - 400);

    const won = await t.merchant.post<Dispute>(`/v1/disputes/${dispute.id}`, {
      evidence: { uncategorized_text: 'winning_evidence' },
    });
    expect(won.status, won.text).toBe(200);
    expect(won.body.status).toBe('won');
    expect(await walletBalance(wallet)).toBe(600);
    expect(await losses()).toBe(lossesBefore);
    // A duplicate of the dispute's events changes nothing.
    await deliverDisputeEvents(topUp);
    await waitFor('the duplicates to be handled', async () => {
      const pending = await t.service.database.db
        .selectFrom('webhook_inbox')
        .select('id')
        .where('status', '=', 'pending')
        .execute();
      return pending.length === 0;
    });
    expect(await walletBalance(wallet)).toBe(600);
    expect(await losses()).toBe(lossesBefore);
    await ledgerClean();
  });
});
