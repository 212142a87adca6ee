// The bank workload (Jepsen's "bank" test, on the ledger): wallets that may not go negative, random
// transfers between them from many concurrent workers, and readers that check the total never changes.
// Used by test/ledger-bank.pg.test.ts and bench/ledger.ts.
import { randomInt } from 'node:crypto';
import { isDatabaseUnavailable } from '../src/db/errors.js';
import { type AccountRef, LedgerError, type PostInput } from '../src/modules/ledger/ledger.js';
import type { BatchOutcome, LedgerService } from '../src/modules/ledger/ledger.service.js';

export interface Bank {
  ledger: LedgerService;
  merchantId: string;
  /** Distinguishes this run's wallets and posting keys from any other run's. */
  runId: string;
  wallets: number;
  currency?: string;
}

export function walletRefs(bank: Bank): AccountRef[] {
  return Array.from({ length: bank.wallets }, (_, i) => ({
    type: 'customer_wallet' as const,
    merchantId: bank.merchantId,
    customerId: `cus_bank_${bank.runId}_${i}`,
  }));
}

/** Puts `amount` into every wallet from the `external` account. */
export async function fundWallets(bank: Bank, amount: number): Promise<void> {
  const refs = walletRefs(bank);
  for (const [i, to] of refs.entries()) {
    await bank.ledger.transferAlone({
      key: `bank:${bank.runId}:fund:${i}`,
      kind: 'wallet_topup',
      source: { type: 'bank_test', id: bank.runId },
      livemode: false,
      from: { type: 'external' },
      to,
      amount,
      currency: bank.currency ?? 'usd',
    });
  }
}

export interface TransferRun {
  transfers: number;
  workers: number;
  maxAmount: number;
  /** Transfers per database transaction (ledger.postBatch); 1 posts each on its own (ledger.post). */
  batchSize?: number;
  /** Pause before retrying transfers whose outcome the database outage left unknown. */
  retryDelayMs?: number;
  /** Called with how many transfers have been started, after each batch is taken. */
  onProgress?: (started: number) => void;
}

export interface TransferOutcome {
  applied: number;
  refused: number;
  /** Retries after an outage that found their first attempt had committed. */
  replayed: number;
  retries: number;
  /** Net change per wallet from the transfers that applied. */
  deltas: number[];
  durationMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Transfer {
  from: number;
  to: number;
  amount: number;
  input: PostInput;
}

function randomTransfer(bank: Bank, refs: AccountRef[], index: number, maxAmount: number): Transfer {
  const from = randomInt(bank.wallets);
  const to = (from + 1 + randomInt(bank.wallets - 1)) % bank.wallets;
  const amount = 1 + randomInt(maxAmount);
  const currency = bank.currency ?? 'usd';
  return {
    from,
    to,
    amount,
    input: {
      key: `bank:${bank.runId}:${index}`,
      kind: 'transfer',
      source: { type: 'bank_test', id: bank.runId },
      livemode: false,
      entries: [
        { account: refs[from] as AccountRef, amount: -amount, currency },
        { account: refs[to] as AccountRef, amount, currency },
      ],
    },
  };
}

/** Posts a batch until it has an answer: a database outage is retried with the same posting keys. */
async function settle(bank: Bank, batch: Transfer[], run: TransferRun, outcome: TransferOutcome) {
  for (;;) {
    try {
      if (batch.length === 1) {
        try {
          return [{ posted: await bank.ledger.postAlone((batch[0] as Transfer).input) }] as BatchOutcome[];
        } catch (error) {
          if (error instanceof LedgerError) return [{ refused: error }] as BatchOutcome[];
          throw error;
        }
      }
      return await bank.ledger.postBatch(batch.map((t) => t.input));
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      outcome.retries++;
      await sleep(run.retryDelayMs ?? 50);
    }
  }
}

/**
 * Runs random transfers; a transfer refused for insufficient funds is final, one that failed because
 * the database was unreachable is retried with the same posting key until it has an answer. Any other
 * error (a deadlock, a constraint violation, another refusal) fails the run.
 */
export async function runTransfers(bank: Bank, run: TransferRun): Promise<TransferOutcome> {
  const refs = walletRefs(bank);
  const outcome: TransferOutcome = {
    applied: 0,
    refused: 0,
    replayed: 0,
    retries: 0,
    deltas: refs.map(() => 0),
    durationMs: 0,
  };
  const size = run.batchSize ?? 1;
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < run.transfers) {
      const first = next;
      next = Math.min(run.transfers, next + size);
      run.onProgress?.(next);
      const batch = Array.from({ length: next - first }, (_, i) =>
        randomTransfer(bank, refs, first + i, run.maxAmount),
      );
      const results = await settle(bank, batch, run, outcome);
      for (const [i, result] of results.entries()) {
        const transfer = batch[i] as Transfer;
        if ('refused' in result) {
          if (result.refused.reason !== 'balance_insufficient') throw result.refused;
          outcome.refused++;
          continue;
        }
        outcome.applied++;
        if (result.posted.replayed) outcome.replayed++;
        outcome.deltas[transfer.from] = (outcome.deltas[transfer.from] ?? 0) - transfer.amount;
        outcome.deltas[transfer.to] = (outcome.deltas[transfer.to] ?? 0) + transfer.amount;
      }
    }
  };
  await Promise.all(Array.from({ length: run.workers }, worker));
  outcome.durationMs = performance.now() - started;
  return outcome;
}

export interface ReaderReport {
  reads: number;
  failedReads: number;
  /** Every read whose total was not `total` or that showed a negative wallet. */
  anomalies: string[];
}

/** Reads all wallets in one statement, over and over, until `stop()` resolves. */
export async function readWhile(bank: Bank, total: number, stop: Promise<unknown>): Promise<ReaderReport> {
  const refs = walletRefs(bank).map((account) => ({ account, currency: bank.currency ?? 'usd' }));
  const report: ReaderReport = { reads: 0, failedReads: 0, anomalies: [] };
  let stopped = false;
  void stop.finally(() => {
    stopped = true;
  });
  while (!stopped) {
    try {
      const balances = (await bank.ledger.balances(false, refs)).map((b) => b.balance);
      report.reads++;
      const sum = balances.reduce((a, b) => a + b, 0);
      if (sum !== total || balances.some((b) => b < 0))
        report.anomalies.push(`read ${report.reads}: ${balances.join(',')}`);
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      report.failedReads++;
      await sleep(50);
    }
  }
  return report;
}
