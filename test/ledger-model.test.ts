// Model-based property test: random sequences of postings (including forbidden ones: zero, fractional
// and unbalanced amounts, one account twice, overdrawn wallets, reused keys) against a few lines of
// in-memory bookkeeping. Every outcome and every balance must agree with the model.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountRef, PostInput } from '../src/modules/ledger/ledger.js';
import type { LedgerService } from '../src/modules/ledger/ledger.service.js';
import { verifyLedger } from '../src/modules/ledger/ledger.verify.js';
import { unique } from './ledger-support.js';
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

const ACCOUNTS = 7;
/** Indexes 0-2 may go negative (clearing, pending, fees); 3-6 are wallets, which may not. */
const mayGoNegative = (index: number) => index < 3;

function accountsOfRun(run: string): AccountRef[] {
  const merchantId = `acct_${run}`;
  return [
    { type: 'provider_clearing', provider: `p${run}` },
    { type: 'merchant_pending', merchantId },
    { type: 'merchant_fees', merchantId },
    ...[0, 1, 2, 3].map((i) => ({
      type: 'customer_wallet' as const,
      merchantId,
      customerId: `cus_${run}_${i}`,
    })),
  ];
}

type Entry = [account: number, amount: number];
type Command =
  | { op: 'post'; entries: Entry[] }
  | { op: 'replay'; pick: number }
  | { op: 'reuse'; pick: number; entries: Entry[] };

const amount = fc.oneof(
  { weight: 20, arbitrary: fc.integer({ min: 1, max: 3000 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 0.5, 12.25) },
);
const rarely = <T>(usual: T, rare: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 15, arbitrary: fc.constant(usual) }, { weight: 1, arbitrary: rare });

/** Mostly well-formed entries; rarely one account twice, or a leg nudged off balance. */
const entries: fc.Arbitrary<Entry[]> = fc
  .tuple(
    fc.shuffledSubarray([0, 1, 2, 3, 4, 5, 6], { minLength: 2, maxLength: 4 }),
    fc.array(fc.tuple(amount, fc.boolean()), { minLength: 3, maxLength: 3 }),
    rarely(false, fc.constant(true)),
    rarely(0, fc.integer({ min: -3, max: 3 })),
  )
  .map(([chosen, legs, duplicate, nudge]) => {
    const signed: Entry[] = chosen
      .slice(0, -1)
      .map((account, i) => [account, (legs[i]?.[1] ? -1 : 1) * (legs[i]?.[0] ?? 1)]);
    const sum = signed.reduce((total, [, value]) => total + value, 0);
    const last = duplicate ? (chosen[0] as number) : (chosen.at(-1) as number);
    return [...signed, [last, -sum + nudge]];
  });

/** Money into a wallet from clearing, so that spending from wallets is not always refused. */
const fund: fc.Arbitrary<Entry[]> = fc
  .tuple(fc.integer({ min: 3, max: 6 }), fc.integer({ min: 1, max: 5000 }))
  .map(([wallet, value]) => [
    [0, -value],
    [wallet, value],
  ]);

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: entries.map((e) => ({ op: 'post' as const, entries: e })) },
  { weight: 2, arbitrary: fund.map((e) => ({ op: 'post' as const, entries: e })) },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ op: 'replay' as const, pick })) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.nat(), entries).map(([pick, e]) => ({ op: 'reuse' as const, pick, entries: e })),
  },
);

/** The model: what the ledger must answer, in the order the ledger checks. */
function expected(balances: number[], list: Entry[]): string {
  if (list.some(([, value]) => !Number.isSafeInteger(value) || value === 0)) return 'ledger_invalid_posting';
  if (new Set(list.map(([account]) => account)).size !== list.length) return 'ledger_duplicate_account';
  if (list.reduce((total, [, value]) => total + value, 0) !== 0) return 'ledger_unbalanced';
  if (list.some(([account, value]) => !mayGoNegative(account) && (balances[account] ?? 0) + value < 0)) {
    return 'balance_insufficient';
  }
  return 'ok';
}

const canonical = (list: Entry[]) => JSON.stringify([...list].sort((a, b) => a[0] - b[0]));

async function outcome(promise: Promise<{ id: string; replayed: boolean }>) {
  try {
    return { code: 'ok', ...(await promise) };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (!code) throw error;
    return { code, id: '', replayed: false };
  }
}

describe('ledger against an in-memory model', () => {
  it('agrees on every outcome and every balance', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 25 }), async (commands) => {
        const run = unique();
        const accounts = accountsOfRun(run);
        const balances = new Array<number>(ACCOUNTS).fill(0);
        const versions = new Array<number>(ACCOUNTS).fill(0);
        const applied: { key: string; entries: Entry[]; id: string }[] = [];
        const input = (key: string, list: Entry[]): PostInput => ({
          key,
          kind: 'adjustment',
          source: { type: 'model', id: run },
          livemode: false,
          entries: list.map(([account, value]) => ({
            account: accounts[account] as AccountRef,
            amount: value,
            currency: 'usd',
          })),
        });

        for (const step of commands) {
          if (step.op === 'replay') {
            const previous = applied[step.pick % Math.max(applied.length, 1)];
            if (!previous) continue;
            const result = await outcome(ledger.postAlone(input(previous.key, previous.entries)));
            expect(result).toMatchObject({ code: 'ok', id: previous.id, replayed: true });
            continue;
          }
          const previous = step.op === 'reuse' ? applied[step.pick % Math.max(applied.length, 1)] : undefined;
          const key = previous?.key ?? unique();
          let want = expected(balances, step.entries);
          if (
            previous &&
            want !== 'ledger_invalid_posting' &&
            want !== 'ledger_duplicate_account' &&
            want !== 'ledger_unbalanced'
          ) {
            want =
              canonical(previous.entries) === canonical(step.entries) ? 'replayed' : 'posting_key_reused';
          }
          const result = await outcome(ledger.postAlone(input(key, step.entries)));
          if (want === 'replayed') {
            expect(result).toMatchObject({ code: 'ok', id: previous?.id, replayed: true });
            continue;
          }
          expect(result.code).toBe(want);
          if (want !== 'ok') continue;
          expect(result.replayed).toBe(false);
          applied.push({ key, entries: step.entries, id: result.id });
          for (const [account, value] of step.entries) {
            balances[account] = (balances[account] ?? 0) + value;
            versions[account] = (versions[account] ?? 0) + 1;
          }
        }

        const actual = await ledger.balances(
          false,
          accounts.map((account) => ({ account, currency: 'usd' })),
        );
        expect(actual).toEqual(balances.map((balance, i) => ({ balance, version: versions[i] })));
      }),
      { numRuns: 40 },
    );
    const report = await verifyLedger(t.service.database.db);
    expect(report.checks.filter((c) => c.violations > 0)).toEqual([]);
  });
});
