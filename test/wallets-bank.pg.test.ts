// Jepsen's bank test on wallets, through the HTTP API on PostgreSQL: 10 wallets, 50 concurrent workers
// making random wallet payments, refunds and fundings. Every answer is accounted: each wallet must end at
// its funding plus its refunds minus its payments, exactly. Meanwhile readers take one-snapshot reads of
// every wallet and the merchant's accounts: the money in them always equals what was funded (between
// the fundings acknowledged before the read and those sent before it ended), and no wallet is ever
// negative. `payctl ledger verify` (GET /admin/ledger/verify, what `payctl ledger verify --url` calls)
// is clean at the end.
//
// WALLET_BANK_OPERATIONS sets the number of operations: 100,000 by default, as the issue asks. That takes
// about 10 minutes on this two-core machine (705 s at 142 operations/s on its own at load 6; 159/s inside
// the test command), so vitest starts this file first (test/support/sequencer.ts) and the other worker
// runs every other file meanwhile. A quicker local run: WALLET_BANK_OPERATIONS=5000.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountRef } from '../src/modules/ledger/ledger.js';
import { verifyLedger } from '../src/modules/ledger/ledger.verify.js';
import { startTestService, type TestService } from './support/service.js';

const OPERATIONS = Number(process.env.WALLET_BANK_OPERATIONS ?? 100_000);
const WORKERS = 50;
const WALLETS = 10;
const INITIAL = 20_000;

let t: TestService;
beforeAll(async () => {
  t = await startTestService({ env: { DB_POOL_SIZE: '20', LOG_LEVEL: 'warn' } });
});
afterAll(async () => {
  await t.close();
});

interface BankWallet {
  id: string;
  customer: string;
  /** Net of every acknowledged operation on it: fundings and refunds minus payments. */
  delta: number;
}

interface Paid {
  intent: string;
  wallet: BankWallet;
  refundable: number;
}

const random = (n: number) => Math.floor(Math.random() * n);

describe('wallet bank test over HTTP (PostgreSQL)', () => {
  it(`keeps every wallet exact and non-negative through ${OPERATIONS} concurrent operations`, {
    timeout: 2_400_000,
  }, async () => {
    const wallets: BankWallet[] = [];
    for (let i = 0; i < WALLETS; i++) {
      const customer = await t.merchant.post<{ id: string }>('/v1/customers', { name: `bank ${i}` });
      const wallet = await t.merchant.post<{ id: string }>('/v1/wallets', {
        customer: customer.body.id,
        currency: 'usd',
      });
      expect((await t.merchant.post(`/v1/wallets/${wallet.body.id}/fund`, { amount: INITIAL })).status).toBe(
        200,
      );
      wallets.push({ id: wallet.body.id, customer: customer.body.id, delta: 0 });
    }
    const { ledger } = t.service.services;
    const accounts: AccountRef[] = [
      ...wallets.flatMap((w): AccountRef[] => [
        { type: 'customer_wallet', merchantId: t.merchantId, customerId: w.customer },
        { type: 'customer_wallet_hold', merchantId: t.merchantId, customerId: w.customer },
      ]),
      { type: 'merchant_pending', merchantId: t.merchantId },
      { type: 'merchant_available', merchantId: t.merchantId },
      { type: 'merchant_fees', merchantId: t.merchantId },
    ];
    let fundedAcknowledged = WALLETS * INITIAL;
    let fundedSent = WALLETS * INITIAL;
    const paid: Paid[] = [];
    const counts = { paid: 0, declined: 0, refunded: 0, refundRefused: 0, funded: 0, other: 0 };
    const unexpected: string[] = [];
    let next = 0;

    async function operation(): Promise<void> {
      const roll = random(100);
      if (roll < 20) {
        const wallet = wallets[random(WALLETS)] as BankWallet;
        const amount = 200 + random(1500);
        fundedSent += amount;
        const reply = await t.merchant.post(`/v1/wallets/${wallet.id}/fund`, { amount });
        if (reply.status !== 200) {
          unexpected.push(`fund ${reply.status} ${reply.text}`);
          return;
        }
        wallet.delta += amount;
        fundedAcknowledged += amount;
        counts.funded++;
      } else if (roll < 35 && paid.length > 0) {
        const target = paid[random(paid.length)] as Paid;
        if (target.refundable <= 0) return;
        const amount = 1 + random(target.refundable);
        // Reserved here so two workers never refund past what this test believes is left.
        target.refundable -= amount;
        const reply = await t.merchant.post('/v1/refunds', { payment_intent: target.intent, amount });
        if (reply.status === 200) {
          target.wallet.delta += amount;
          counts.refunded++;
        } else {
          target.refundable += amount;
          counts.refundRefused++;
          unexpected.push(`refund ${reply.status} ${reply.text}`);
        }
      } else {
        const wallet = wallets[random(WALLETS)] as BankWallet;
        // Mostly payments the wallet can afford, as in real traffic; one in 30 asks for more than any
        // wallet holds here, so declines are exercised all through the run.
        const amount = roll >= 97 ? 10 * INITIAL : 50 + random(500);
        const reply = await t.merchant.post<{ id: string; status: string }>('/v1/payment_intents', {
          amount,
          currency: 'usd',
          customer: wallet.customer,
          payment_method_types: ['wallet'],
          confirm: true,
        });
        if (reply.status === 200 && reply.body.status === 'succeeded') {
          wallet.delta -= amount;
          counts.paid++;
          paid.push({ intent: reply.body.id, wallet, refundable: amount });
        } else if (reply.status === 402) {
          counts.declined++;
        } else {
          counts.other++;
          unexpected.push(`pay ${reply.status} ${reply.text}`);
        }
      }
    }

    let reads = 0;
    let running = true;
    const readerProblems: string[] = [];
    async function reader(): Promise<void> {
      while (running) {
        const low = fundedAcknowledged;
        const balances = await ledger.balances(
          false,
          accounts.map((account) => ({ account, currency: 'usd' })),
        );
        const high = fundedSent;
        const total = balances.reduce((sum, b) => sum + b.balance, 0);
        if (total < low || total > high) readerProblems.push(`total ${total} outside [${low}, ${high}]`);
        const walletBalances = balances.slice(0, WALLETS * 2);
        if (walletBalances.some((b) => b.balance < 0))
          readerProblems.push(`negative wallet: ${JSON.stringify(balances)}`);
        // And as merchants see it, over HTTP.
        const wallet = wallets[random(WALLETS)] as BankWallet;
        const seen = await t.merchant.get<{ balance: { available: number; held: number } }>(
          `/v1/wallets/${wallet.id}`,
        );
        if (seen.body.balance.available < 0 || seen.body.balance.held !== 0) {
          readerProblems.push(`wallet read ${JSON.stringify(seen.body.balance)}`);
        }
        reads++;
      }
    }

    const started = performance.now();
    const readers = [reader(), reader()];
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        while (next < OPERATIONS) {
          next++;
          await operation();
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    running = false;
    await Promise.all(readers);
    console.log(
      `wallet bank: ${OPERATIONS} operations in ${seconds.toFixed(1)} s = ${Math.round(OPERATIONS / seconds)}/s with ${WORKERS} workers; ${JSON.stringify(counts)}; ${reads} snapshot reads`,
    );

    expect(unexpected.slice(0, 5)).toEqual([]);
    expect(readerProblems.slice(0, 5)).toEqual([]);
    expect(reads).toBeGreaterThan(0);
    expect(counts.paid).toBeGreaterThan(0);
    expect(counts.declined).toBeGreaterThan(0);
    for (const wallet of wallets) {
      const final = await t.merchant.get<{ balance: { available: number; held: number } }>(
        `/v1/wallets/${wallet.id}`,
      );
      expect(final.body.balance).toEqual({ available: INITIAL + wallet.delta, held: 0 });
    }
    const balances = await ledger.balances(
      false,
      accounts.map((account) => ({ account, currency: 'usd' })),
    );
    expect(balances.reduce((sum, b) => sum + b.balance, 0)).toBe(fundedAcknowledged);

    const report = await verifyLedger(t.service.database.db);
    expect(report.checks.filter((c) => c.violations > 0)).toEqual([]);
    const remote = await t.admin.get<{ ok: boolean }>('/admin/ledger/verify');
    expect(remote.status).toBe(200);
    expect(remote.body.ok).toBe(true);
  });
});
