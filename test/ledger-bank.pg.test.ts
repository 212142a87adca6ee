// Jepsen's bank test on the ledger, PostgreSQL only: wallets that may not go negative, 50 concurrent
// workers making random transfers (in batches of 20 per database transaction, through ledger.postBatch),
// readers checking every snapshot, and `verify` at the end. Then once more on a private PostgreSQL
// cluster that is stopped and started mid-run: the service recovers on its own, transfers retried with
// their posting key apply once, and the totals hold.
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { type Bank, fundWallets, readWhile, runTransfers, walletRefs } from '../bench/ledger-workload.js';
import type { PostInput } from '../src/modules/ledger/ledger.js';
import type { BatchOutcome } from '../src/modules/ledger/ledger.service.js';
import { verifyLedger } from '../src/modules/ledger/ledger.verify.js';
import { unique } from './ledger-support.js';
import { createTestDatabase } from './support/postgres.js';
import { createPrivateCluster, type PrivateCluster } from './support/private-cluster.js';
import { startTestService, type TestService } from './support/service.js';

const WALLETS = 10;
const INITIAL = 100_000;
const TOTAL = WALLETS * INITIAL;
const BATCH = 20;

const services: TestService[] = [];
let cluster: PrivateCluster | undefined;
afterAll(async () => {
  for (const service of services) await service.close().catch(() => {});
  cluster?.destroy();
});

async function expectBankIntact(t: TestService, bank: Bank, outcome: { applied: number; deltas: number[] }) {
  const balances = await bank.ledger.balances(
    false,
    walletRefs(bank).map((account) => ({ account, currency: 'usd' })),
  );
  // Every transfer that answered "applied" is in the balances exactly once, and nothing else is.
  expect(balances.map((b) => b.balance)).toEqual(outcome.deltas.map((delta) => INITIAL + delta));
  const posted = await sql<{ n: number }>`
    select count(*)::int as n from ledger_transactions where kind = 'transfer' and source_id = ${bank.runId}`.execute(
    t.service.database.db,
  );
  expect(posted.rows[0]?.n).toBe(outcome.applied);
  const report = await verifyLedger(t.service.database.db);
  expect(report.checks.filter((c) => c.violations > 0)).toEqual([]);
}

describe('ledger bank test (PostgreSQL)', () => {
  it('keeps the total and every wallet non-negative through 100,000 concurrent transfers', {
    timeout: 240_000,
  }, async () => {
    const t = await startTestService({ env: { DB_POOL_SIZE: '20' } });
    services.push(t);
    const bank: Bank = {
      ledger: t.service.services.ledger,
      merchantId: t.merchantId,
      runId: unique(),
      wallets: WALLETS,
    };
    await fundWallets(bank, INITIAL);

    const transfers = runTransfers(bank, {
      transfers: 100_000,
      workers: 50,
      maxAmount: 20_000,
      batchSize: BATCH,
    });
    const readers = Promise.all([readWhile(bank, TOTAL, transfers), readWhile(bank, TOTAL, transfers)]);
    const outcome = await transfers;
    const reads = await readers;

    expect(reads.flatMap((r) => r.anomalies)).toEqual([]);
    expect(reads.every((r) => r.reads > 0)).toBe(true);
    expect(outcome.applied + outcome.refused).toBe(100_000);
    // The amounts are large enough that wallets run dry: refusals under concurrency were exercised.
    expect(outcome.refused).toBeGreaterThan(0);
    expect(outcome.retries).toBe(0);
    await expectBankIntact(t, bank, outcome);
    console.log(
      `bank: ${outcome.applied} applied, ${outcome.refused} refused in ${Math.round(outcome.durationMs)} ms ` +
        `(${Math.round((100_000 / outcome.durationMs) * 1000)} transfers/s), ${reads.map((r) => r.reads).join('+')} reads`,
    );
  });

  it('recovers by itself from a database restart mid-run, applying each retried transfer once', {
    timeout: 240_000,
  }, async () => {
    cluster = await createPrivateCluster();
    const database = await createTestDatabase(cluster.url);
    const t = await startTestService({
      databaseUrl: database.url,
      env: { DB_POOL_SIZE: '20', DB_POOL_TIMEOUT: '5' },
    });
    services.push(t);
    const bank: Bank = {
      ledger: t.service.services.ledger,
      merchantId: t.merchantId,
      runId: unique(),
      wallets: WALLETS,
    };
    await fundWallets(bank, INITIAL);

    let outage: Promise<void> | undefined;
    const restart = async (server: PrivateCluster) => {
      server.stop('immediate');
      // Long enough that workers and readers meet the closed port, not just broken connections.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      server.start();
    };
    const transfers = runTransfers(bank, {
      transfers: 20_000,
      workers: 50,
      maxAmount: 20_000,
      batchSize: BATCH,
      onProgress: (started) => {
        if (started >= 5_000 && !outage && cluster) outage = restart(cluster);
      },
    });
    const readers = readWhile(bank, TOTAL, transfers);
    const outcome = await transfers;
    await outage;
    const reads = await readers;

    expect(outage).toBeDefined();
    expect(outcome.retries).toBeGreaterThan(0);
    expect(reads.anomalies).toEqual([]);
    expect(reads.failedReads).toBeGreaterThan(0);
    expect(outcome.applied + outcome.refused).toBe(20_000);
    await expectBankIntact(t, bank, outcome);
    // The service itself is healthy again without being restarted.
    const health = await t.api.get('/health/ready');
    expect(health.status).toBe(200);
    console.log(
      `bank with restart: ${outcome.applied} applied (${outcome.replayed} found committed on retry), ` +
        `${outcome.refused} refused, ${outcome.retries} retries, ${reads.failedReads} failed reads`,
    );
  });

  it('applies a key once when many callers post it at the same moment, alone or in batches', async () => {
    const t = await startTestService({ env: { DB_POOL_SIZE: '20' } });
    services.push(t);
    const ledger = t.service.services.ledger;
    const run = unique();
    const charge = (i: number): PostInput => ({
      key: `race:${run}:${i}`,
      kind: 'charge',
      source: { type: 'charge', id: `ch_${run}_${i}` },
      livemode: false,
      entries: [
        { account: { type: 'provider_clearing', provider: 'stripe' }, amount: -1000, currency: 'usd' },
        { account: { type: 'merchant_pending', merchantId: t.merchantId }, amount: 1000, currency: 'usd' },
      ],
    });
    // The synchronous path and the webhook of one attempt, many times over.
    const singles = await Promise.all(Array.from({ length: 20 }, () => ledger.postAlone(charge(0))));
    expect(singles.filter((p) => !p.replayed)).toHaveLength(1);
    expect(new Set(singles.map((p) => p.id)).size).toBe(1);
    // Batches that overlap, each listing the keys in its own order: each key is written by one of them.
    const batches: BatchOutcome[][] = [];
    for (let round = 0; round < 5; round++) {
      const keys = (b: number, i: number) => 1 + round * 60 + ((i * (b + 1) + b * 7) % 60);
      batches.push(
        ...(await Promise.all(
          Array.from({ length: 10 }, (_, b) =>
            ledger.postBatch(Array.from({ length: 50 }, (_, i) => charge(keys(b, i)))),
          ),
        )),
      );
    }
    const posted = batches.flat().map((o) => ('posted' in o ? o.posted : undefined));
    expect(posted.every((p) => p !== undefined)).toBe(true);
    const firsts = posted.filter((p) => p && !p.replayed).map((p) => p?.key);
    expect(new Set(firsts).size).toBe(firsts.length);
    const [pending] = await ledger.balances(false, [
      { account: { type: 'merchant_pending', merchantId: t.merchantId }, currency: 'usd' },
    ]);
    expect(firsts).toHaveLength(new Set(posted.map((p) => p?.key)).size);
    expect(pending?.balance).toBe(1000 * (1 + firsts.length));
    expect(pending?.version).toBe(1 + firsts.length);
    const report = await verifyLedger(t.service.database.db);
    expect(report.checks.filter((c) => c.violations > 0)).toEqual([]);
  });
});
