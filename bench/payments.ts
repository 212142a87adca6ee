// Card payments benchmark, DESIGN section 14, in one run against the machine's own limit:
//   npm run bench:payments   (builds dist/, then runs `node bin/payctl.js start` and
//                             `node bin/payctl.js emulator stripe` as their own processes)
// 1. pgbench of a two-INSERT transaction (payment + outbox row) on the same PostgreSQL: the reference.
// 2. card payments/s on PostgreSQL, Stripe emulator out of process at 0 ms, its webhook back counted:
//    closed loop, BENCH_CONNECTIONS keep-alive connections, after a warm-up.
// 3. latency at a fixed BENCH_RATE payments/s (open loop): p50, p99.
// 4. the emulator at BENCH_PROVIDER_LATENCY_MS: payments/s with BENCH_SLOW_CONNECTIONS connections.
// 5. embedded mode (PGlite in a fresh DATA_DIR, the embedded emulator): payments/s.
// 6. service RSS under load, start to ready on PostgreSQL.
// A payment is `POST /v1/payment_intents` amount=2000&currency=usd&payment_method=pm_card_visa&confirm=true,
// counted only when answered 200 with status "succeeded"; every other answer is an error, reported
// with its body. BENCH_ONLY=pgbench,card,latency,slow,embedded runs some parts; BENCH_SECONDS,
// BENCH_WARMUP_SECONDS, BENCH_PGBENCH_SECONDS, BENCH_PGBENCH_CLIENTS, BENCH_EMBEDDED_CONNECTIONS,
// BENCH_WEBHOOK_EVENTS (default payment_intent.succeeded; `*` for every event) tune it;
// BENCH_CPU_PROF=<dir> runs the service with --cpu-prof into that folder. DB_POOL_SIZE and
// JOBS_* pass through to the service. DATABASE_ADMIN_URL defaults to postgres://postgres@127.0.0.1:5432/postgres.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, numberEnv, result as record, revision, writeResults } from './bench-env.js';
import {
  closedLoop,
  type LoadResult,
  openLoop,
  PAYMENT_BODY,
  payOnce,
  percentile,
  type Target,
} from './payments-load.js';
import {
  backendPids,
  type Child,
  cleanupAll,
  cleanupOnSignals,
  counterByLabel,
  cpuSeconds,
  createDatabase,
  type DatabaseStats,
  databaseStats,
  freePort,
  httpRequest,
  loadAverage,
  rssMegabytes,
  sampleActivity,
  sampleRss,
  spawnPayctl,
  tempDir,
  turnOffCardVelocityRule,
  waitReady,
} from './payments-procs.js';

const ADMIN_URL = process.env.DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PGBENCH = process.env.PGBENCH ?? '/usr/bin/pgbench';
const SECONDS = numberEnv('BENCH_SECONDS', 15);
const WARMUP = numberEnv('BENCH_WARMUP_SECONDS', 3);
const CONNECTIONS = numberEnv('BENCH_CONNECTIONS', 32);
const RATE = numberEnv('BENCH_RATE', 200);
const PROVIDER_LATENCY_MS = numberEnv('BENCH_PROVIDER_LATENCY_MS', 250);
const SLOW_CONNECTIONS = numberEnv('BENCH_SLOW_CONNECTIONS', 256);
const EMBEDDED_CONNECTIONS = numberEnv('BENCH_EMBEDDED_CONNECTIONS', 16);
const PGBENCH_SECONDS = numberEnv('BENCH_PGBENCH_SECONDS', 10);
const PGBENCH_CLIENTS = numberEnv('BENCH_PGBENCH_CLIENTS', 8);
const WEBHOOK_EVENTS = (process.env.BENCH_WEBHOOK_EVENTS ?? 'payment_intent.succeeded').split(',');
const ONLY = process.env.BENCH_ONLY?.split(',');
const CPU_PROF = process.env.BENCH_CPU_PROF;
// A directory holding PostgreSQL's Unix socket (e.g. /var/run/postgresql): pgbench and the service
// connect through it instead of TCP to 127.0.0.1 (both, so that the ratio compares like with like).
const DB_SOCKET = process.env.BENCH_DB_SOCKET || undefined;
/** The service's DATABASE_URL for `url`: through the Unix socket when BENCH_DB_SOCKET is set. */
function serviceDatabaseUrl(url: string): string {
  if (!DB_SOCKET) return url;
  const parsed = new URL(url);
  return `postgres://${parsed.username || 'postgres'}@localhost${parsed.pathname}?host=${encodeURIComponent(DB_SOCKET)}`;
}
const START_TIMEOUT_MS = 60_000;
const WEBHOOK_DRAIN_TIMEOUT_MS = 60_000;

const runs = (part: string) => !ONLY || ONLY.includes(part);

// ---------------------------------------------------------------------------------------------------
// Figures: printed as they are measured, and once more as a table at the end.

interface Figure {
  name: string;
  value: string;
  target: string;
  met?: boolean;
}
const figures: Figure[] = [];

function figure(name: string, value: string, target = '-', met?: boolean): void {
  figures.push({ name, value, target, ...(met === undefined ? {} : { met }) });
  const verdict = met === undefined ? '' : met ? '  met' : '  MISS';
  process.stdout.write(`  ${name}: ${value}${target === '-' ? '' : `  (target ${target})`}${verdict}\n`);
}

function note(text: string): void {
  process.stdout.write(`    ${text}\n`);
}

// ---------------------------------------------------------------------------------------------------
// The service's environment: only what this run sets, never a DATABASE_URL or provider settings
// inherited from the shell (embedded mode must be embedded).

const SERVICE_KEYS =
  /^(DATABASE_URL|READ_REPLICA_|REDIS_URL|STRIPE_|PAYPAL_|EMULATORS|PORT|HOST|DATA_DIR|PUBLIC_URL|BOOTSTRAP_|OTEL_|TEST_CLOCK|ENHANCED_MONITORING|VAULT_KEYS_FILE|LOG_LEVEL|NODE_ENV|APP_ENV|SHUTDOWN_TIMEOUT_MS)/;

function serviceEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!SERVICE_KEYS.test(key)) env[key] = value;
  return {
    ...env,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...extra,
  };
}

// The service counts the statements it sends (bench/statement-counter.ts) unless BENCH_COUNT_STATEMENTS=0.
const COUNT_STATEMENTS = process.env.BENCH_COUNT_STATEMENTS !== '0';
const STATEMENT_COUNTER = fileURLToPath(new URL('./statement-counter.js', import.meta.url));
const nodeArgs = (label: string) => [
  ...(CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`, `--cpu-prof-name=${label}.cpuprofile`] : []),
  ...(COUNT_STATEMENTS ? ['--import', STATEMENT_COUNTER] : []),
];

/** The service's statement counts so far, by SQL text (empty when not counted). */
function statementCounts(file: string): Map<string, number> {
  try {
    return new Map(Object.entries(JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>));
  } catch {
    return new Map();
  }
}

/** Statements per payment over a run, in total and the most frequent ones. */
function statementReport(
  before: Map<string, number>,
  after: Map<string, number>,
  payments: number,
): string[] {
  if (after.size === 0 || payments === 0) return [];
  const deltas: [string, number][] = [];
  let total = 0;
  for (const [sql, count] of after) {
    const delta = count - (before.get(sql) ?? 0);
    if (delta <= 0) continue;
    deltas.push([sql, delta]);
    total += delta;
  }
  deltas.sort((a, b) => b[1] - a[1]);
  return [
    `statements sent by the service per payment (webhook and jobs included): ${fmt(total / payments, 1)}`,
    ...deltas.slice(0, 30).map(([sql, count]) => `  ${fmt(count / payments, 2)}  ${sql}`),
  ];
}

// ---------------------------------------------------------------------------------------------------
// 1. pgbench

async function pgbench(): Promise<number> {
  const db = await createDatabase(ADMIN_URL);
  const admin = new URL(db.url);
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query(`
    create table payment (id bigserial primary key, merchant_id text not null, amount bigint not null,
      currency text not null, status text not null, created_at timestamptz not null default now());
    create table outbox (id bigserial primary key, payment_id bigint not null, type text not null,
      payload jsonb not null, created_at timestamptz not null default now());`);
  await client.end();
  const script = path.join(tempDir('bench-payments-pgbench-'), 'two-inserts.sql');
  writeFileSync(
    script,
    [
      '\\set amount random(100, 100000)',
      'BEGIN;',
      "INSERT INTO payment (merchant_id, amount, currency, status) VALUES ('acct_bench', :amount, 'usd', 'succeeded');",
      "INSERT INTO outbox (payment_id, type, payload) VALUES (currval('payment_id_seq'), 'payment_intent.succeeded', '{\"amount\": 2000}');",
      'END;',
      '',
    ].join('\n'),
  );
  const args = [
    '-h',
    DB_SOCKET ?? admin.hostname,
    '-p',
    admin.port || '5432',
    '-U',
    decodeURIComponent(admin.username || 'postgres'),
    '-n',
    '-M',
    'prepared',
    '-c',
    String(PGBENCH_CLIENTS),
    '-j',
    '2',
    '-T',
    String(PGBENCH_SECONDS),
    '-f',
    script,
    db.name,
  ];
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(PGBENCH, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), (PGBENCH_SECONDS + 60) * 1000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(text);
      else reject(new Error(`pgbench exited ${code}:\n${text}`));
    });
  });
  await db.drop();
  const match = /tps = ([\d.]+) \(without initial connection time\)/.exec(output);
  if (!match) throw new Error(`pgbench: no tps in its output:\n${output}`);
  const failed = /number of failed transactions: (\d+)/.exec(output)?.[1] ?? '0';
  const tps = Number(match[1]);
  record('pgbench_tps', tps, `${PGBENCH_CLIENTS} clients, ${PGBENCH_SECONDS} s, ${failed} failed`);
  figure(
    `pgbench two-INSERT transaction, ${PGBENCH_CLIENTS} clients, ${PGBENCH_SECONDS} s`,
    `${fmt(tps)} TPS (${failed} failed)`,
    'reference (DESIGN: 4,500-5,300)',
  );
  return tps;
}

// ---------------------------------------------------------------------------------------------------
// Shared: CPU accounting per process over a load run, webhook counters, error report.

interface CpuSnapshot {
  at: number;
  service: number;
  emulator: number;
  postgres: Map<number, number>;
  bench: number;
}

async function cpuSnapshot(service: Child, emulator: Child | null, database: string | null) {
  const postgres = new Map<number, number>();
  if (database) for (const pid of await backendPids(ADMIN_URL, database)) postgres.set(pid, cpuSeconds(pid));
  const own = process.cpuUsage();
  return {
    at: performance.now(),
    service: cpuSeconds(service.pid),
    emulator: emulator ? cpuSeconds(emulator.pid) : 0,
    postgres,
    bench: (own.user + own.system) / 1e6,
  } satisfies CpuSnapshot;
}

function cpuReport(
  before: CpuSnapshot,
  after: CpuSnapshot,
  emulator: boolean,
  postgres: boolean,
  payments = 0,
): string {
  const wall = (after.at - before.at) / 1000;
  let pgCpu = 0;
  for (const [pid, seconds] of after.postgres) pgCpu += seconds - (before.postgres.get(pid) ?? 0);
  const serviceCpu = after.service - before.service;
  const parts = [`service ${fmt(serviceCpu / wall, 2)}`];
  if (emulator) parts.push(`emulator ${fmt((after.emulator - before.emulator) / wall, 2)}`);
  if (postgres) parts.push(`postgres backends of this database ${fmt(pgCpu / wall, 2)}`);
  parts.push(`load generator ${fmt((after.bench - before.bench) / wall, 2)}`);
  const line = `CPU cores used (warm-up and window): ${parts.join(', ')} of 2`;
  if (payments === 0) return line;
  // Per payment over warm-up, window and tail (every payment answered between the two snapshots).
  const perPayment = [`service ${fmt((serviceCpu * 1000) / payments, 2)}`];
  if (postgres) perPayment.push(`postgres ${fmt((pgCpu * 1000) / payments, 2)}`);
  if (emulator) perPayment.push(`emulator ${fmt(((after.emulator - before.emulator) * 1000) / payments, 2)}`);
  return `${line}\nCPU ms per payment (webhook and jobs included): ${perPayment.join(', ')}`;
}

/** Milliseconds of CPU per succeeded payment, warm-up and window: what moves least with the load. */
function cpuPerPayment(before: CpuSnapshot, after: CpuSnapshot, payments: number, postgres: boolean): string {
  let pgCpu = 0;
  for (const [pid, seconds] of after.postgres) pgCpu += seconds - (before.postgres.get(pid) ?? 0);
  const ms = (seconds: number) => fmt((seconds * 1000) / Math.max(1, payments), 2);
  return `CPU per payment: service ${ms(after.service - before.service)} ms${
    postgres ? `, PostgreSQL ${ms(pgCpu)} ms` : ''
  }`;
}

function reportErrors(result: LoadResult): void {
  for (const [kind, { count, sample }] of result.errorKinds) {
    note(`error ${kind}: ${count}x; first body: ${sample.replace(/\s+/g, ' ') || '(none)'}`);
  }
}

function loadLine(result: LoadResult): string {
  return (
    `${fmt(result.succeeded)} succeeded in ${result.windowSeconds} s, errors ${result.errors} in the window ` +
    `(+${result.errorsOutsideWindow} in warm-up/tail), latency p50 ${fmt(percentile(result.latencies, 50), 1)} ms ` +
    `p99 ${fmt(percentile(result.latencies, 99), 1)} ms`
  );
}

async function webhooksProcessed(port: number): Promise<Record<string, number>> {
  const metrics = await httpRequest(port, 'GET', '/metrics');
  return counterByLabel(metrics.body, 'webhooks_received_total', 'outcome');
}

interface DeliveryStats {
  delivered: number;
  retried: number;
  failed: number;
  dropped: number;
  queued: number;
  in_flight: number;
}

async function emulatorState(
  port: number,
): Promise<{ webhooks: DeliveryStats; counts: { payment_intents: number } }> {
  const state = await httpRequest(port, 'GET', '/_emulator/state?types=none');
  return JSON.parse(state.body) as { webhooks: DeliveryStats; counts: { payment_intents: number } };
}

async function emulatorDeliveries(port: number): Promise<DeliveryStats> {
  return (await emulatorState(port)).webhooks;
}

/** Waits until the emulator has nothing queued or in flight; the milliseconds it took. */
async function drainWebhooks(port: number): Promise<{ ms: number; stats: DeliveryStats }> {
  const started = performance.now();
  for (;;) {
    const stats = await emulatorDeliveries(port);
    if (
      (stats.queued === 0 && stats.in_flight === 0) ||
      performance.now() - started > WEBHOOK_DRAIN_TIMEOUT_MS
    ) {
      return { ms: performance.now() - started, stats };
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function logSummary(child: Child): void {
  const kinds = new Map<string, { count: number; sample: string }>();
  for (const line of child.output().split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { level?: unknown; msg?: unknown; err?: { message?: unknown } };
      const key = `${String(entry.level)}: ${String(entry.msg)}`;
      const known = kinds.get(key);
      if (known) known.count++;
      else kinds.set(key, { count: 1, sample: line.slice(0, 600) });
    } catch {
      // not a log line
    }
  }
  if (kinds.size === 0) {
    note(`${child.name} log: nothing at warn or above`);
    return;
  }
  for (const [key, { count, sample }] of kinds) {
    note(`${child.name} log ${key} (${count}x), first: ${sample}`);
  }
}

/** One payment before the load: 1 if it succeeded, else its error is printed and 0. */
async function checkOnePayment(target: Target): Promise<number> {
  const answer = await payOnce(target);
  if (answer.ok) return 1;
  note(`sanity payment failed: ${answer.kind}; body: ${answer.body.slice(0, 600)}`);
  return 0;
}

// ---------------------------------------------------------------------------------------------------
// 2-4, 6: PostgreSQL, emulator out of process.

async function startService(
  label: string,
  env: NodeJS.ProcessEnv,
): Promise<{ child: Child; port: number; readyMs: number }> {
  const port = await freePort();
  const started = performance.now();
  const child = spawnPayctl(label, ['start'], { ...env, PORT: String(port) }, nodeArgs(label));
  const readyMs = await waitReady(child, port, '/health/ready', started, START_TIMEOUT_MS);
  return { child, port, readyMs };
}

async function postgresScenarios(pgbenchTps: number | null): Promise<void> {
  const db = await createDatabase(ADMIN_URL);
  const emulatorPort = await freePort();
  const emulatorStarted = performance.now();
  const emulator = spawnPayctl(
    'stripe-emulator',
    ['emulator', 'stripe', '--port', String(emulatorPort), '--host', '127.0.0.1'],
    serviceEnv({}),
  );
  await waitReady(emulator, emulatorPort, '/_emulator/faults', emulatorStarted, START_TIMEOUT_MS);
  await httpRequest(emulatorPort, 'DELETE', '/_emulator/faults');

  const webhookSecret = `whsec_${randomBytes(24).toString('hex')}`;
  const secretKey = `sk_test_bench${randomBytes(12).toString('hex')}`;
  const statementFile = path.join(tempDir('bench-payments-statements-'), 'statements.json');
  const env = serviceEnv({
    DATABASE_URL: serviceDatabaseUrl(db.url),
    DATA_DIR: tempDir('bench-payments-pg-'),
    STRIPE_API_BASE: `http://127.0.0.1:${emulatorPort}`,
    STRIPE_SECRET_KEY: `sk_test_benchstripe${randomBytes(8).toString('hex')}`,
    STRIPE_WEBHOOK_SECRET: webhookSecret,
    BOOTSTRAP_SECRET_KEY: secretKey,
    STATEMENT_COUNT_FILE: statementFile,
    ...benchAdminEnv,
  });

  // First start migrates the empty database; the second is a restart, what a deploy does.
  const first = await startService('service-pg-first', env);
  await first.child.stop();
  const statsBefore = await databaseStats(db.url);
  const { child: service, port, readyMs } = await startService('service-pg', env);
  record('ready_restart_ms', readyMs, `first start with migrations ${fmt(first.readyMs)} ms`);
  record('ready_first_ms', first.readyMs);
  figure(
    'start to ready on PostgreSQL (restart, migrated database)',
    `${fmt(readyMs)} ms`,
    '<= 1,500 ms',
    readyMs <= 1500,
  );
  figure(
    'start to ready on PostgreSQL (first start, runs migrations)',
    `${fmt(first.readyMs)} ms`,
    '<= 1,500 ms',
    first.readyMs <= 1500,
  );
  note(
    `service RSS right after start: ${fmt(rssMegabytes(service.pid))} MB; DB_POOL_SIZE ${process.env.DB_POOL_SIZE ?? '10 (default)'}`,
  );

  await turnOffCardVelocity(port);
  const target: Target = { port, secretKey };
  const webhookUrl = `http://127.0.0.1:${port}/webhooks/stripe`;
  const events = WEBHOOK_EVENTS.includes('*') ? {} : { enabled_events: WEBHOOK_EVENTS };
  const set = await httpRequest(emulatorPort, 'POST', '/_emulator/webhook_target', {
    url: webhookUrl,
    secret: webhookSecret,
    ...events,
  });
  if (set.status !== 200) throw new Error(`emulator webhook_target: ${set.status} ${set.body}`);
  note(`emulator webhooks to ${webhookUrl}, events: ${WEBHOOK_EVENTS.join(', ')}`);
  let maxRss = 0;
  let payments = await checkOnePayment(target);
  const measure = async (name: string, run: () => Promise<LoadResult>) => {
    process.stdout.write(`\n${name}\n`);
    const before = await cpuSnapshot(service, emulator, db.name);
    const hooksBefore = await webhooksProcessed(port);
    const rss = sampleRss(service.pid);
    const emulatorRss = sampleRss(emulator.pid);
    const activity = await sampleActivity(ADMIN_URL, db.name);
    const statementsBefore = statementCounts(statementFile);
    const result = await run();
    const serviceRss = rss.stop();
    const seen = await activity.stop();
    maxRss = Math.max(maxRss, serviceRss);
    const after = await cpuSnapshot(service, emulator, db.name);
    const hooksAfter = await webhooksProcessed(port);
    payments += result.succeededTotal;
    note(loadLine(result));
    reportErrors(result);
    note(cpuReport(before, after, true, true));
    const cpu = cpuPerPayment(before, after, result.succeededTotal, true);
    note(cpu);
    note(`database backends, average count by state | wait event | statement (${seen.samples} samples):`);
    for (const [key, count] of seen.seen.slice(0, 8))
      note(`  ${fmt(count / Math.max(1, seen.samples), 2)}  ${key}`);
    // Since the inbox, the route counts webhooks stored (`accepted`); processing follows in a job.
    const processed = (hooksAfter.accepted ?? 0) - (hooksBefore.accepted ?? 0);
    note(
      `webhooks stored by the service during the run: ${fmt(processed)} for ${fmt(result.succeededTotal)} payments ` +
        `(${fmt(processed / ((after.at - before.at) / 1000))}/s); other outcomes: ${JSON.stringify(
          Object.fromEntries(Object.entries(hooksAfter).filter(([k]) => k !== 'accepted')),
        )}`,
    );
    const drained = await drainWebhooks(emulatorPort);
    note(
      `webhook backlog at the end drained in ${fmt(drained.ms)} ms; emulator deliveries so far ${JSON.stringify(drained.stats)}`,
    );
    note(`RSS max: service ${fmt(serviceRss)} MB, emulator ${fmt(emulatorRss.stop())} MB`);
    // Per payment from the start of the run until its webhooks were processed (the inbox job runs
    // after the emulator's delivery was accepted: a second for it, and for the counts to be written).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const settled = await cpuSnapshot(service, emulator, db.name);
    note(cpuReport(before, settled, true, true, result.succeededTotal).split('\n')[1] ?? '');
    for (const line of statementReport(
      statementsBefore,
      statementCounts(statementFile),
      result.succeededTotal,
    ))
      note(line);
    note(`load average now: ${loadAverage()}`);
    return { result, cpu, serviceRss };
  };
  const errorsOf = (result: LoadResult) =>
    `errors ${result.errors} / ${result.errorsOutsideWindow} (window / warm-up and tail)`;
  const latencyOf = (result: LoadResult) =>
    `p50 ${fmt(percentile(result.latencies, 50), 1)} ms, p99 ${fmt(percentile(result.latencies, 99), 1)} ms`;

  if (runs('card')) {
    const { result, cpu, serviceRss } = await measure(
      `card payments, PostgreSQL, emulator at 0 ms, ${CONNECTIONS} connections, ${WARMUP} s warm-up + ${SECONDS} s`,
      () => closedLoop(target, CONNECTIONS, SECONDS, WARMUP),
    );
    record('card_errors', result.errors + result.errorsOutsideWindow);
    record(
      'card_per_s',
      result.perSecond,
      `${CONNECTIONS} connections, ${SECONDS} s; ${latencyOf(result)}; ${errorsOf(result)}; ${cpu}; RSS ${fmt(serviceRss)} MB`,
    );
    figure(
      'card payments/s (PostgreSQL, emulator 0 ms)',
      `${fmt(result.perSecond)}/s`,
      '>= 1,000/s',
      result.perSecond >= 1000,
    );
    if (pgbenchTps) {
      const ratio = result.perSecond / pgbenchTps;
      figure('  ratio to pgbench TPS', fmt(ratio, 3), '>= 0.20', ratio >= 0.2);
    }
    figure(
      '  errors (window / warm-up and tail)',
      `${result.errors} / ${result.errorsOutsideWindow}`,
      '0, all answers succeeded',
      result.errors + result.errorsOutsideWindow === 0,
    );
  }

  if (runs('latency')) {
    const { result, cpu, serviceRss } = await measure(
      `latency at ${RATE} payments/s (open loop), ${Math.min(WARMUP, 2)} s warm-up + ${SECONDS} s`,
      () => openLoop(target, RATE, SECONDS, Math.min(WARMUP, 2)),
    );
    note(
      `generator sent at most ${fmt(result.maxSendLagMs ?? 0, 1)} ms behind schedule; achieved ${fmt(result.perSecond)}/s`,
    );
    const p50 = percentile(result.latencies, 50);
    const p99 = percentile(result.latencies, 99);
    const detail = `open loop at ${RATE}/s for ${SECONDS} s, achieved ${fmt(result.perSecond)}/s; ${errorsOf(result)}; ${cpu}; RSS ${fmt(serviceRss)} MB`;
    record('latency_p50_ms', p50, detail);
    record('latency_errors', result.errors + result.errorsOutsideWindow);
    record('latency_p99_ms', p99, detail);
    figure(`latency p50 at ${RATE}/s`, `${fmt(p50, 2)} ms`, '<= 3 ms', p50 <= 3);
    figure(`latency p99 at ${RATE}/s`, `${fmt(p99, 2)} ms`, '<= 10 ms', p99 <= 10);
    figure(
      '  errors (window / warm-up and tail)',
      `${result.errors} / ${result.errorsOutsideWindow}`,
      '0',
      result.errors + result.errorsOutsideWindow === 0,
    );
  }

  if (runs('slow')) {
    const set = await httpRequest(emulatorPort, 'POST', '/_emulator/faults', {
      latency_ms: PROVIDER_LATENCY_MS,
    });
    if (set.status !== 200) throw new Error(`emulator faults: ${set.status} ${set.body}`);
    const { result, cpu, serviceRss } = await measure(
      `card payments, emulator at ${PROVIDER_LATENCY_MS} ms, ${SLOW_CONNECTIONS} connections, ${WARMUP} s warm-up + ${SECONDS} s`,
      () => closedLoop(target, SLOW_CONNECTIONS, SECONDS, WARMUP),
    );
    record('slow_errors', result.errors + result.errorsOutsideWindow);
    record(
      'slow_per_s',
      result.perSecond,
      `provider at ${PROVIDER_LATENCY_MS} ms, ${SLOW_CONNECTIONS} connections, ${SECONDS} s; ${latencyOf(result)}; ${errorsOf(result)}; ${cpu}; RSS ${fmt(serviceRss)} MB`,
    );
    await httpRequest(emulatorPort, 'DELETE', '/_emulator/faults');
    figure(
      `card payments/s with the provider at ${PROVIDER_LATENCY_MS} ms`,
      `${fmt(result.perSecond)}/s`,
      '>= 500/s',
      result.perSecond >= 500,
    );
    figure(
      '  errors (window / warm-up and tail)',
      `${result.errors} / ${result.errorsOutsideWindow}`,
      '0',
      result.errors + result.errorsOutsideWindow === 0,
    );
  }

  if (payments > 1) {
    record('payments_rss_mb', maxRss, 'max over the PostgreSQL payment runs');
    figure('service RSS under load (max, PostgreSQL)', `${fmt(maxRss)} MB`, '<= 300 MB', maxRss <= 300);
    await drainWebhooks(emulatorPort);
    const hooks = await webhooksProcessed(port);
    const state = await emulatorState(emulatorPort);
    const created = state.counts.payment_intents;
    const expected = WEBHOOK_EVENTS.length === 1 && WEBHOOK_EVENTS[0] === 'payment_intent.succeeded';
    const w = state.webhooks;
    record(
      'webhooks_back_stored',
      hooks.accepted ?? 0,
      `of ${fmt(created)} payment intents at the emulator; delivered ${fmt(w.delivered)}, retried ${w.retried}, failed ${w.failed}, dropped ${w.dropped}`,
    );
    record('webhooks_back_expected', created);
    figure(
      'webhooks back: stored by the service / payment intents at the emulator',
      `${fmt(hooks.accepted ?? 0)} / ${fmt(created)} (the client saw ${fmt(payments)} succeed); emulator ` +
        `delivered ${fmt(w.delivered)}, retried ${w.retried}, failed ${w.failed}, dropped ${w.dropped}`,
      expected ? 'one per payment' : '-',
      expected ? (hooks.accepted ?? 0) >= created : undefined,
    );
  }
  logSummary(service);
  await service.stop();
  await emulator.stop();
  if (payments > 1) reportDatabaseWork(statsBefore, await databaseStats(db.url));
  await db.drop();
}

/** What the database did per payment over the PostgreSQL runs, webhooks and jobs included. */
function reportDatabaseWork(before: DatabaseStats, after: DatabaseStats): void {
  // Every payment the service made, answered to the client or not (timed-out requests complete too).
  const payments =
    (after.tables.get('payment_intents')?.inserted ?? 0) -
    (before.tables.get('payment_intents')?.inserted ?? 0);
  if (payments <= 0) return;
  const per = (a: number, b: number) => fmt((a - b) / payments, 1);
  process.stdout.write('\n');
  note(
    `database work per payment (all PostgreSQL runs, webhooks and jobs included, ${fmt(payments)} payment intents): ` +
      `${per(after.transactions, before.transactions)} transactions, rows inserted ` +
      `${per(after.rows.inserted, before.rows.inserted)}, updated ${per(after.rows.updated, before.rows.updated)}, ` +
      `deleted ${per(after.rows.deleted, before.rows.deleted)}`,
  );
  const tables = [...after.tables.entries()]
    .map(([name, t]) => {
      const b = before.tables.get(name) ?? { inserted: 0, updated: 0, scans: 0 };
      return {
        name,
        inserted: t.inserted - b.inserted,
        updated: t.updated - b.updated,
        scans: t.scans - b.scans,
      };
    })
    .filter((t) => t.inserted + t.updated + t.scans > 0)
    .sort((a, b) => b.inserted + b.updated + b.scans - (a.inserted + a.updated + a.scans));
  note(
    `per table per payment (inserted/updated/scans): ${tables
      .slice(0, 12)
      .map((t) => `${t.name} ${per(t.inserted, 0)}/${per(t.updated, 0)}/${per(t.scans, 0)}`)
      .join(', ')}`,
  );
}

/** The operator the bench logs in as, to set the fraud rules. */
const BENCH_ADMIN = { email: 'bench-admin@example.test', password: randomBytes(18).toString('hex') };
const benchAdminEnv = {
  BOOTSTRAP_ADMIN_EMAIL: BENCH_ADMIN.email,
  BOOTSTRAP_ADMIN_PASSWORD: BENCH_ADMIN.password,
};

async function turnOffCardVelocity(port: number): Promise<void> {
  await turnOffCardVelocityRule(port, BENCH_ADMIN);
  note('fraud rules on, except card_velocity (every bench payment uses one test card)');
}

// ---------------------------------------------------------------------------------------------------
// 5. embedded mode

async function embedded(): Promise<void> {
  const secretKey = `sk_test_bench${randomBytes(12).toString('hex')}`;
  const env = serviceEnv({
    DATA_DIR: tempDir('bench-payments-embedded-'),
    BOOTSTRAP_SECRET_KEY: secretKey,
    ...benchAdminEnv,
  });
  const { child: service, port, readyMs } = await startService('service-embedded', env);
  note(`embedded first start to ready (fresh DATA_DIR): ${fmt(readyMs)} ms`);
  await turnOffCardVelocity(port);
  const target: Target = { port, secretKey };
  await checkOnePayment(target);
  process.stdout.write(
    `\nembedded mode (PGlite, embedded emulator), ${EMBEDDED_CONNECTIONS} connections, ${WARMUP} s warm-up + ${SECONDS} s\n`,
  );
  const before = await cpuSnapshot(service, null, null);
  const hooksBefore = await webhooksProcessed(port);
  const rss = sampleRss(service.pid);
  const result = await closedLoop(target, EMBEDDED_CONNECTIONS, SECONDS, WARMUP);
  const maxRss = rss.stop();
  const after = await cpuSnapshot(service, null, null);
  const hooksAfter = await webhooksProcessed(port);
  note(loadLine(result));
  reportErrors(result);
  note(cpuReport(before, after, false, false));
  const cpu = cpuPerPayment(before, after, result.succeededTotal, false);
  note(cpu);
  record('embedded_errors', result.errors + result.errorsOutsideWindow);
  record('embedded_rss_mb', maxRss, 'PGlite runs inside the service process');
  record(
    'embedded_per_s',
    result.perSecond,
    `${EMBEDDED_CONNECTIONS} connections, ${SECONDS} s; p50 ${fmt(percentile(result.latencies, 50), 1)} ms, p99 ${fmt(
      percentile(result.latencies, 99),
      1,
    )} ms; errors ${result.errors} / ${result.errorsOutsideWindow}; ${cpu}; RSS ${fmt(maxRss)} MB`,
  );
  note(
    `webhooks from the embedded emulator processed during the run (every event type): ${fmt(
      (hooksAfter.processed ?? 0) - (hooksBefore.processed ?? 0),
    )}; RSS max ${fmt(maxRss)} MB`,
  );
  figure('embedded (PGlite) payments/s', `${fmt(result.perSecond)}/s`, '>= 200/s', result.perSecond >= 200);
  figure(
    '  errors (window / warm-up and tail)',
    `${result.errors} / ${result.errorsOutsideWindow}`,
    '0',
    result.errors + result.errorsOutsideWindow === 0,
  );
  logSummary(service);
  await service.stop();
}

// ---------------------------------------------------------------------------------------------------

cleanupOnSignals(writeResults);

const loadAtStart = loadAverage();
const startedAt = new Date();
process.stdout.write(
  `payments benchmark ${startedAt.toISOString()} at ${revision()}; load average at start ${loadAtStart}\n` +
    `a payment: POST /v1/payment_intents ${PAYMENT_BODY}\n\n`,
);
let failed = false;
try {
  let tps: number | null = null;
  if (runs('pgbench')) tps = await pgbench();
  if (runs('card') || runs('latency') || runs('slow')) await postgresScenarios(tps);
  if (runs('embedded')) await embedded();
} catch (error) {
  failed = true;
  process.stderr.write(`\nbenchmark failed: ${(error as Error).stack ?? String(error)}\n`);
} finally {
  await cleanupAll();
}

process.stdout.write(`\nsummary (load average at start ${loadAtStart}, at end ${loadAverage()})\n`);
for (const f of figures) {
  const verdict = f.met === undefined ? '' : f.met ? 'met' : 'MISS';
  process.stdout.write(`| ${f.name} | ${f.value} | ${f.target} | ${verdict} |\n`);
}
process.stdout.write(
  `command: npm run bench:payments (BENCH_SECONDS=${SECONDS} BENCH_CONNECTIONS=${CONNECTIONS} ` +
    `BENCH_SLOW_CONNECTIONS=${SLOW_CONNECTIONS} BENCH_EMBEDDED_CONNECTIONS=${EMBEDDED_CONNECTIONS})\n`,
);
writeResults();
process.exit(failed ? 1 : 0);
