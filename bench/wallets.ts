// Wallet payments benchmark, DESIGN section 14 (issue 7: >= 2,000 wallet payments/s through the API on
// PostgreSQL):
//   npm run bench:wallets   (builds dist/, then runs `node bin/payctl.js start` as its own process)
// BENCH_WALLETS customers each get a USD wallet funded with enough for the whole run; then
// BENCH_CONNECTIONS keep-alive connections send wallet payments back to back (closed loop) for
// BENCH_SECONDS after BENCH_WARMUP_SECONDS: `POST /v1/payment_intents` amount=100&currency=usd&
// customer=<random>&payment_method_types[]=wallet&confirm=true, counted only when answered 200 with
// status "succeeded". Every wallet must then hold exactly its funding minus its succeeded payments
// (read over the API), and `payctl ledger verify` must be clean; the run fails otherwise.
// BENCH_CPU_PROF=<dir> runs the service with --cpu-prof. DB_POOL_SIZE passes through to the service.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fmt, numberEnv, result as record, revision, writeResults } from './bench-env.js';
import { closedLoop, percentile } from './payments-load.js';
import {
  cleanupAll,
  cleanupOnSignals,
  cpuSeconds,
  createDatabase,
  databaseStats,
  freePort,
  loadAverage,
  rssMegabytes,
  sampleRss,
  spawnPayctl,
  tempDir,
  waitReady,
} from './payments-procs.js';

const ADMIN_URL = process.env.DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SECONDS = numberEnv('BENCH_SECONDS', 15);
const WARMUP = numberEnv('BENCH_WARMUP_SECONDS', 3);
const CONNECTIONS = numberEnv('BENCH_CONNECTIONS', 32);
const WALLETS = numberEnv('BENCH_WALLETS', 100);
const CPU_PROF = process.env.BENCH_CPU_PROF;
const AMOUNT = 100;
const FUNDING = 99_999_999;
const START_TIMEOUT_MS = 60_000;

/** Form-encoded merchant API call with the bench's secret key. */
async function api(
  port: number,
  key: string,
  method: string,
  pathname: string,
  form?: Record<string, string>,
) {
  const response = await fetch(`http://127.0.0.1:${port}${pathname}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-www-form-urlencoded' },
    ...(form ? { body: new URLSearchParams(form).toString() } : {}),
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200)
    throw new Error(`${method} ${pathname}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

async function run(): Promise<boolean> {
  const database = await createDatabase(ADMIN_URL);
  const secretKey = `sk_test_bench${randomBytes(12).toString('hex')}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    SHUTDOWN_TIMEOUT_MS: '5000',
    DATABASE_URL: database.url,
    DATA_DIR: tempDir('bench-wallets-'),
    BOOTSTRAP_SECRET_KEY: secretKey,
    ...(process.env.DB_POOL_SIZE ? { DB_POOL_SIZE: process.env.DB_POOL_SIZE } : {}),
  };
  const port = await freePort();
  const nodeArgs = CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(CPU_PROF)}`, '--cpu-prof-name=service-wallets.cpuprofile']
    : [];
  const started = performance.now();
  const service = spawnPayctl('service-wallets', ['start'], { ...env, PORT: String(port) }, nodeArgs);
  await waitReady(service, port, '/health/ready', started, START_TIMEOUT_MS);

  const customers: { customer: string; wallet: string }[] = [];
  for (let i = 0; i < WALLETS; i++) {
    const customer = await api(port, secretKey, 'POST', '/v1/customers', { name: `bench ${i}` });
    const wallet = await api(port, secretKey, 'POST', '/v1/wallets', {
      customer: String(customer.id),
      currency: 'usd',
    });
    await api(port, secretKey, 'POST', `/v1/wallets/${String(wallet.id)}/fund`, { amount: String(FUNDING) });
    customers.push({ customer: String(customer.id), wallet: String(wallet.id) });
  }
  process.stdout.write(`${WALLETS} wallets funded with ${fmt(FUNDING)} each\n`);

  const statsBefore = await databaseStats(database.url);
  const cpuBefore = cpuSeconds(service.pid);
  const rss = sampleRss(service.pid);
  const result = await closedLoop(
    {
      port,
      secretKey,
      body: () => {
        const { customer } = customers[Math.floor(Math.random() * customers.length)]!;
        return `amount=${AMOUNT}&currency=usd&customer=${customer}&payment_method_types[]=wallet&confirm=true`;
      },
    },
    CONNECTIONS,
    SECONDS,
    WARMUP,
  );
  const maxRss = rss.stop();
  const cpu = cpuSeconds(service.pid) - cpuBefore;

  // Every succeeded payment must be in exactly one wallet's balance.
  let held = 0;
  for (const { wallet } of customers) {
    const read = await api(port, secretKey, 'GET', `/v1/wallets/${wallet}`);
    const balance = read.balance as { available: number; held: number };
    held += balance.available + balance.held;
  }
  const spent = WALLETS * FUNDING - held;
  const expected = result.succeededTotal * AMOUNT;
  await service.stop();
  // Committed transactions per payment, from the database's own statistics (complete once the
  // service's sessions have ended); the balance reads above add one each per wallet.
  const statsAfter = await databaseStats(database.url);
  const transactions = (statsAfter.transactions - statsBefore.transactions - WALLETS) / result.succeededTotal;
  const verify = spawnPayctl('ledger-verify', ['ledger', 'verify'], env);
  const verifyCode = await verify.exited;

  const sorted = [...result.latencies].sort((a, b) => a - b);
  record(
    'wallets_per_s',
    result.perSecond,
    `${CONNECTIONS} connections, ${WALLETS} wallets, ${SECONDS} s; p50 ${fmt(percentile(sorted, 50), 1)} ms, ` +
      `p99 ${fmt(percentile(sorted, 99), 1)} ms; errors ${result.errors} / ${result.errorsOutsideWindow}; ` +
      `service CPU ${fmt((cpu * 1000) / Math.max(1, result.succeededTotal), 2)} ms per payment; ` +
      `${fmt(transactions, 2)} transactions per payment; money ${spent === expected ? 'exact' : 'MISMATCH'}; ` +
      `ledger verify ${verifyCode === 0 ? 'clean' : `exit ${verifyCode}`}; RSS ${fmt(maxRss)} MB`,
  );
  record('wallets_rss_mb', maxRss);
  record('wallets_errors', result.errors + result.errorsOutsideWindow);
  record('wallets_money_exact', spent === expected ? 1 : 0);
  record('wallets_verify_clean', verifyCode === 0 ? 1 : 0);
  process.stdout.write(
    `\nwallet payments/s, PostgreSQL, ${CONNECTIONS} connections, ${WALLETS} wallets: ${fmt(result.perSecond)}/s ` +
      `(target >= 2,000/s)  ${result.perSecond >= 2000 ? 'met' : 'MISS'}\n` +
      `  latency p50 ${fmt(percentile(sorted, 50), 1)} ms, p99 ${fmt(percentile(sorted, 99), 1)} ms; ` +
      `errors ${result.errors} in the window, ${result.errorsOutsideWindow} outside\n` +
      `  service CPU ${fmt((cpu * 1000) / Math.max(1, result.succeededTotal), 2)} ms per payment ` +
      `(${fmt(cpu / (SECONDS + WARMUP), 2)} cores); max RSS ${fmt(maxRss)} MB (now ${fmt(rssMegabytes(process.pid))} MB here)\n` +
      `  database transactions per payment: ${fmt(transactions, 2)}\n` +
      `  money: ${fmt(result.succeededTotal)} succeeded payments of ${AMOUNT} = ${fmt(expected)}; ` +
      `the wallets lost ${fmt(spent)}  ${spent === expected ? 'exact' : 'MISMATCH'}\n` +
      `  payctl ledger verify: ${verifyCode === 0 ? 'clean' : `exit ${verifyCode}\n${verify.output()}`}\n`,
  );
  for (const [kind, { count, sample }] of result.errorKinds) {
    process.stdout.write(`  error ${kind}: ${count}, e.g. ${sample}\n`);
  }
  return spent === expected && verifyCode === 0;
}

cleanupOnSignals(writeResults);
const loadAtStart = loadAverage();
process.stdout.write(
  `wallet benchmark ${new Date().toISOString()} at ${revision()}; load average at start ${loadAtStart}\n`,
);
let ok = false;
try {
  ok = await run();
} catch (error) {
  process.stderr.write(`\nbenchmark failed: ${(error as Error).stack ?? String(error)}\n`);
} finally {
  await cleanupAll();
}
process.stdout.write(
  `load average at end ${loadAverage()}\ncommand: npm run bench:wallets (BENCH_SECONDS=${SECONDS} ` +
    `BENCH_CONNECTIONS=${CONNECTIONS} BENCH_WALLETS=${WALLETS})\n`,
);
writeResults();
process.exit(ok ? 0 : 1);
