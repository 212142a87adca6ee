// Concurrent wallet payments on PostgreSQL: the balance check and the debit are one transaction under the
// wallet's ledger lock, so 20 payments of 100 racing for 700 succeed exactly 7 times, and holds race the
// same way. Nothing goes negative and the ledger verifies clean.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../src/modules/ledger/ledger.verify.js';
import { startTestService, type TestService } from './support/service.js';

let t: TestService;
beforeAll(async () => {
  t = await startTestService({ env: { DB_POOL_SIZE: '20' } });
});
afterAll(async () => {
  await t.close();
});

type Wallet = { id: string; customer: string; balance: { available: number; held: number } };

async function fundedWallet(amount: number): Promise<Wallet> {
  const customer = await t.merchant.post<{ id: string }>('/v1/customers', { name: 'Racer' });
  const wallet = await t.merchant.post<Wallet>('/v1/wallets', {
    customer: customer.body.id,
    currency: 'usd',
  });
  await t.merchant.post(`/v1/wallets/${wallet.body.id}/fund`, { amount });
  return wallet.body;
}

const race = (wallet: Wallet, extra: Record<string, unknown> = {}) =>
  Promise.all(
    Array.from({ length: 20 }, () =>
      t.merchant.post<{ status: string; error?: { code: string } }>('/v1/payment_intents', {
        amount: 100,
        currency: 'usd',
        customer: wallet.customer,
        payment_method_types: ['wallet'],
        confirm: true,
        ...extra,
      }),
    ),
  );

describe('concurrent wallet payments (PostgreSQL)', () => {
  it('20 concurrent payments of 100 against 700: exactly 7 succeed, the wallet ends at 0', async () => {
    const wallet = await fundedWallet(700);
    const replies = await race(wallet);
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(7);
    expect(statuses.filter((s) => s === 402)).toHaveLength(13);
    for (const reply of replies.filter((r) => r.status === 402)) {
      expect(reply.body.error?.code).toBe('insufficient_funds');
    }
    const after = await t.merchant.get<Wallet>(`/v1/wallets/${wallet.id}`);
    expect(after.body.balance).toEqual({ available: 0, held: 0 });
  });

  it('20 concurrent holds of 100 against 700: exactly 7 are held, nothing stays available', async () => {
    const wallet = await fundedWallet(700);
    const replies = await race(wallet, { capture_method: 'manual' });
    expect(replies.filter((r) => r.status === 200 && r.body.status === 'requires_capture')).toHaveLength(7);
    expect(replies.filter((r) => r.status === 402)).toHaveLength(13);
    const after = await t.merchant.get<Wallet>(`/v1/wallets/${wallet.id}`);
    expect(after.body.balance).toEqual({ available: 0, held: 700 });
  });

  it('verifies clean: no wallet below zero at any point of its history', async () => {
    const report = await verifyLedger(t.service.database.db);
    expect(report.checks.filter((c) => c.violations > 0)).toEqual([]);
  });
});
