// Ledger benchmark on PostgreSQL with every invariant on: transfers per second through the service
// layer (the same `ledger.post` payments use), 50 concurrent workers.
//   npm run bench:ledger            (DATABASE_ADMIN_URL defaults to postgres://postgres@127.0.0.1:5432/postgres)
// Scenarios: a two-row insert for reference (the machine's limit in the same run); the bank test's 10
// contended wallets and 1,000 wallets, one posting per transaction and in batches of 20; and card
// charges all landing on one merchant and one clearing account, with balance slots and with one row.
// BENCH_ONLY=2,3 runs some; BENCH_TRANSFERS, BENCH_WORKERS, BENCH_POOL, BENCH_BATCH, BENCH_WALLETS tune.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { createService, type Service } from '../src/main.js';
import { chargeSucceeded } from '../src/modules/ledger/ledger.postings.js';
import { verifyLedger } from '../src/modules/ledger/ledger.verify.js';
import { createLogger } from '../src/observability/logger.js';
import { result as record, writeResults } from './bench-env.js';
import { type Bank, fundWallets, runTransfers } from './ledger-workload.js';

const ADMIN_URL = process.env.DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const WORKERS = Number(process.env.BENCH_WORKERS ?? 50);
const POOL = process.env.BENCH_POOL ?? '20';
const TRANSFERS = Number(process.env.BENCH_TRANSFERS ?? 30_000);
// The service keeps generated vault keys in DATA_DIR; the benchmark's belong in a scratch folder.
const BENCH_DATA_DIR = mkdtempSync(path.join(tmpdir(), 'ledger-bench-'));

async function withDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const name = `bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  try {
    return await fn(url.toString());
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

async function withService<T>(env: Record<string, string>, fn: (service: Service) => Promise<T>): Promise<T> {
  return withDatabase(async (url) => {
    const config = loadConfig({
      DATABASE_URL: url,
      DB_POOL_SIZE: POOL,
      LOG_LEVEL: 'error',
      PORT: '0',
      DATA_DIR: BENCH_DATA_DIR,
      ...env,
    });
    const service = await createService(config, {
      role: 'api',
      bootstrap: false,
      logger: createLogger({ level: 'error' }),
    });
    try {
      return await fn(service);
    } finally {
      await service.close();
    }
  });
}

async function bank(wallets: number, batchSize = 1): Promise<number> {
  return withService({}, async (service) => {
    const run: Bank = {
      ledger: service.services.ledger,
      merchantId: 'acct_bench',
      runId: randomBytes(4).toString('hex'),
      wallets,
    };
    await fundWallets(run, 1_000_000);
    const outcome = await runTransfers(run, {
      transfers: TRANSFERS,
      workers: WORKERS,
      maxAmount: 20_000,
      batchSize,
    });
    const report = await verifyLedger(service.database.db);
    if (!report.ok) throw new Error('ledger verify failed after the benchmark');
    return (TRANSFERS / outcome.durationMs) * 1000;
  });
}

/** Card charges of one merchant through one provider: every posting hits the same three accounts. */
async function hotCharges(slots: string): Promise<number> {
  return withService({ LEDGER_BALANCE_SLOTS: slots }, async (service) => {
    const ledger = service.services.ledger;
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        for (let i = next++; i < TRANSFERS; i = next++) {
          await ledger.postAlone(
            chargeSucceeded({
              key: `bench:charge:${i}`,
              livemode: false,
              merchantId: 'acct_bench',
              currency: 'usd',
              provider: 'stripe',
              amount: 1000 + (i % 500),
              fee: 59,
              source: { type: 'charge', id: `ch_${i}` },
            }),
          );
        }
      }),
    );
    const perSecond = (TRANSFERS / (performance.now() - started)) * 1000;
    if (!(await verifyLedger(service.database.db)).ok) throw new Error('ledger verify failed');
    return perSecond;
  });
}

/** The machine's own limit for comparison: one statement inserting two rows, like DESIGN's pgbench. */
async function reference(): Promise<number> {
  return withDatabase(async (url) => {
    const pool = new pg.Pool({ connectionString: url, max: Number(POOL) });
    // Dropping the database afterwards ends idle connections; that is expected, not an error.
    pool.on('error', () => {});
    await pool.query(
      'create table payment (id text primary key); create table outbox (id bigserial, ref text)',
    );
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        for (let i = next++; i < TRANSFERS; i = next++) {
          await pool.query(
            'with p as (insert into payment values ($1) returning id) insert into outbox (ref) select id from p',
            [`p${i}`],
          );
        }
      }),
    );
    const perSecond = (TRANSFERS / (performance.now() - started)) * 1000;
    await pool.end();
    return perSecond;
  });
}

const rows: [string, number][] = [];
const only = process.env.BENCH_ONLY?.split(',');
const scenarios: [string, () => Promise<number>][] = [
  ['reference: two-row insert statement, no ledger (machine limit)', reference],
  [
    'bank: 10 wallets (may not go negative), random transfers',
    () => bank(Number(process.env.BENCH_WALLETS ?? 10)),
  ],
  ['1,000 wallets (may not go negative), random transfers', () => bank(1000)],
  [
    'bank: 10 wallets, batches of 20 transfers per transaction',
    () => bank(Number(process.env.BENCH_WALLETS ?? 10), Number(process.env.BENCH_BATCH ?? 20)),
  ],
  [
    '1,000 wallets, batches of 20 transfers per transaction',
    () => bank(1000, Number(process.env.BENCH_BATCH ?? 20)),
  ],
  ['charges on one merchant + one clearing account, 16 slots', () => hotCharges('16')],
  ['charges on one merchant + one clearing account, 1 slot (one hot row)', () => hotCharges('1')],
];
for (const [index, [name, run]] of scenarios.entries()) {
  if (only && !only.includes(String(index + 1))) continue;
  const perSecond = await run();
  rows.push([name, perSecond]);
  record(`ledger_${index + 1}_per_s`, perSecond, name);
  process.stdout.write(`${name}: ${Math.round(perSecond)} transfers/s\n`);
}
process.stdout.write(
  `\n${TRANSFERS} postings per scenario, ${WORKERS} workers, pool ${POOL}, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}\ncommand: npm run bench:ledger\n`,
);
writeResults();
