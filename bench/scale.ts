// Scale-out benchmark (issue 11): card payments/s through nginx (deploy/nginx/payments.conf, a private
// instance) in front of 1 and then 3 service processes on one PostgreSQL database, with the payment and
// load tool of bench/payments.ts:
//   npm run bench:scale
// Per run: payments/s and latency, CPU of every party (replicas, nginx, the Stripe emulator, the
// database's backends, the load generator, the whole machine) per second and per payment, and what the
// database's backends were doing (pg_stat_activity samples). Then the same load once more with the
// replicas under `--cpu-prof`, summed over the replicas: where the service's time goes at the limit.
// BENCH_ONLY=direct1,lb1,lb3,profile picks runs (direct1: one process without the balancer, for the
// balancer's cost); BENCH_SECONDS, BENCH_WARMUP_SECONDS, BENCH_CONNECTIONS, BENCH_PROFILE_SECONDS,
// BENCH_PROFILE_PROCESSES (1 or 3), BENCH_IDLE_SECONDS (the replicas' idle cost, measured before each
// load) tune it. DB_POOL_SIZE and JOBS_* pass through to the service.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Balancer, startBalancer } from '../test/support/balancer.js';
import { fmt, numberEnv, revision } from './bench-env.js';
import { summariseProfiles } from './cpu-profile.js';
import { closedLoop, PAYMENT_BODY, payOnce, percentile, type Target } from './payments-load.js';
import {
  backendPids,
  type Child,
  cleanupAll,
  counterByLabel,
  cpuSeconds,
  createDatabase,
  databaseStats,
  freePort,
  httpRequest,
  loadAverage,
  onCleanup,
  sampleActivity,
  spawnPayctl,
  tempDir,
  turnOffCardVelocityRule,
  waitReady,
} from './payments-procs.js';

const ADMIN_URL = process.env.DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SECONDS = numberEnv('BENCH_SECONDS', 15);
const WARMUP = numberEnv('BENCH_WARMUP_SECONDS', 3);
const CONNECTIONS = numberEnv('BENCH_CONNECTIONS', 32);
const PROFILE_SECONDS = numberEnv('BENCH_PROFILE_SECONDS', 10);
const IDLE_SECONDS = numberEnv('BENCH_IDLE_SECONDS', 5);
const PROFILE_PROCESSES = numberEnv('BENCH_PROFILE_PROCESSES', 3);
const ONLY = process.env.BENCH_ONLY?.split(',');
const runs = (part: string) => !ONLY || ONLY.includes(part);
const out = (text: string) => process.stdout.write(`${text}\n`);

// The service's environment: only what this run sets (as bench/payments.ts), never inherited settings.
const SERVICE_KEYS =
  /^(DATABASE_URL|READ_REPLICA_|REDIS_URL|STRIPE_|PAYPAL_|EMULATORS|PORT|HOST|DATA_DIR|PUBLIC_URL|BOOTSTRAP_|OTEL_|TEST_CLOCK|ENHANCED_MONITORING|VAULT_KEYS_FILE|LOG_LEVEL|NODE_ENV|APP_ENV|SHUTDOWN_TIMEOUT_MS|TRUSTED_PROXIES)/;
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

/** Busy and total jiffies of the whole machine (every core), from /proc/stat. */
function machineCpu(): { busy: number; total: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1);
  const values = fields.map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

interface Cluster {
  replicas: { child: Child; port: number }[];
  balancer: Balancer | null;
  /** Where the load goes: nginx, or the one replica directly. */
  port: number;
  database: string;
  secretKey: string;
  stop(): Promise<void>;
}

const ADMIN = { email: 'bench-admin@example.test', password: randomBytes(18).toString('hex') };

async function startCluster(
  label: string,
  processes: number,
  withBalancer: boolean,
  emulatorPort: number,
  profileDir?: string,
): Promise<Cluster> {
  const db = await createDatabase(ADMIN_URL);
  const secretKey = `sk_test_bench${randomBytes(12).toString('hex')}`;
  const webhookSecret = `whsec_${randomBytes(24).toString('hex')}`;
  const env = serviceEnv({
    DATABASE_URL: db.url,
    DATA_DIR: tempDir('bench-scale-'),
    STRIPE_API_BASE: `http://127.0.0.1:${emulatorPort}`,
    STRIPE_SECRET_KEY: `sk_test_benchstripe${randomBytes(8).toString('hex')}`,
    STRIPE_WEBHOOK_SECRET: webhookSecret,
    BOOTSTRAP_SECRET_KEY: secretKey,
    BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    TRUSTED_PROXIES: 'loopback',
  });
  const replicas: { child: Child; port: number }[] = [];
  const start = async (i: number) => {
    const port = await freePort();
    const name = `${label}-${i + 1}`;
    const nodeArgs = profileDir
      ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}.cpuprofile`]
      : [];
    const started = performance.now();
    const child = spawnPayctl(name, ['start'], { ...env, PORT: String(port) }, nodeArgs);
    await waitReady(child, port, '/health/ready', started, 60_000);
    replicas.push({ child, port });
  };
  await start(0); // migrates the fresh database
  await Promise.all(Array.from({ length: processes - 1 }, (_, i) => start(i + 1)));
  const balancer = withBalancer ? await startBalancer(replicas.map((r) => `127.0.0.1:${r.port}`)) : null;
  const stopBalancer = balancer ? onCleanup(`stop nginx ${label}`, () => balancer.stop()) : async () => {};
  const port = balancer?.port ?? (replicas[0] as { port: number }).port;
  // The emulator's webhooks come back the way a provider's would: through the balancer.
  const set = await httpRequest(emulatorPort, 'POST', '/_emulator/webhook_target', {
    url: `http://127.0.0.1:${port}/webhooks/stripe`,
    secret: webhookSecret,
    enabled_events: ['payment_intent.succeeded'],
  });
  if (set.status !== 200) throw new Error(`emulator webhook_target: ${set.status} ${set.body}`);
  await turnOffCardVelocityRule(port, ADMIN);
  return {
    replicas,
    balancer,
    port,
    database: db.name,
    secretKey,
    async stop() {
      // Let the emulator's webhooks for this run land before the replicas go (else it retries them
      // into the next run).
      const deadline = performance.now() + 60_000;
      while (performance.now() < deadline) {
        const state = await httpRequest(emulatorPort, 'GET', '/_emulator/state?types=none');
        const { webhooks } = JSON.parse(state.body) as { webhooks: { queued: number; in_flight: number } };
        if (webhooks.queued === 0 && webhooks.in_flight === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await stopBalancer();
      await Promise.all(replicas.map((r) => r.child.stop()));
      // PostgreSQL 15 publishes a backend's statistics when its session ends: read them now.
      const stats = await databaseStats(db.url);
      await db.drop();
      const payments = stats.tables.get('payment_intents')?.inserted ?? 0;
      if (payments > 0) {
        const per = (n: number) => fmt(n / payments, 1);
        out(
          `  database work per payment (${fmt(payments)} payment intents, webhooks and jobs included): ` +
            `${per(stats.transactions)} transactions, rows inserted ${per(stats.rows.inserted)}, ` +
            `updated ${per(stats.rows.updated)}, deleted ${per(stats.rows.deleted)}`,
        );
      }
    },
  };
}

/**
 * As bench/payments.ts: every bench payment uses one test card, so the card-velocity rule is off. The
 * admin's role requires a second factor: the fresh bootstrap admin enrols a TOTP secret first.
 */

interface Snapshot {
  at: number;
  replicas: number[];
  nginx: number;
  emulator: number;
  postgres: Map<number, number>;
  bench: number;
  machine: { busy: number; total: number };
}

async function snapshot(cluster: Cluster, emulator: Child): Promise<Snapshot> {
  const postgres = new Map<number, number>();
  for (const pid of await backendPids(ADMIN_URL, cluster.database)) postgres.set(pid, cpuSeconds(pid));
  const own = process.cpuUsage();
  return {
    at: performance.now(),
    replicas: cluster.replicas.map((r) => cpuSeconds(r.child.pid)),
    nginx: (cluster.balancer?.processPids() ?? []).reduce((sum, pid) => sum + cpuSeconds(pid), 0),
    emulator: cpuSeconds(emulator.pid),
    postgres,
    bench: (own.user + own.system) / 1e6,
    machine: machineCpu(),
  };
}

interface RunFigures {
  name: string;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
  cpu: Record<string, number>;
  perPaymentMs: Record<string, number>;
  /** The load's span on the monotonic clock (µs), to cut a profile to it. */
  window: { fromUs: number; toUs: number };
}
const results: RunFigures[] = [];

async function webhooksStored(cluster: Cluster): Promise<number> {
  let total = 0;
  for (const r of cluster.replicas) {
    const metrics = await httpRequest(r.port, 'GET', '/metrics');
    total += counterByLabel(metrics.body, 'webhooks_received_total', 'outcome').accepted ?? 0;
  }
  return total;
}

async function measure(
  name: string,
  cluster: Cluster,
  emulator: Child,
  seconds: number,
): Promise<RunFigures> {
  out(`\n${name}: ${CONNECTIONS} connections, ${WARMUP} s warm-up + ${seconds} s (load ${loadAverage()})`);
  const target: Target = { port: cluster.port, secretKey: cluster.secretKey };
  const sanity = await payOnce(target);
  if (!sanity.ok) throw new Error(`sanity payment failed: ${sanity.kind} ${sanity.body.slice(0, 400)}`);
  // What the replicas cost with no load at all (job polls, schedules, cache refreshes), per replica:
  // a fixed price each replica pays, which more replicas pay more of.
  const idleFrom = await snapshot(cluster, emulator);
  await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
  const idleTo = await snapshot(cluster, emulator);
  const idleWall = (idleTo.at - idleFrom.at) / 1000;
  let idlePg = 0;
  for (const [pid, s] of idleTo.postgres) idlePg += s - (idleFrom.postgres.get(pid) ?? 0);
  const idleReplica = idleTo.replicas.map((s, i) => (s - (idleFrom.replicas[i] ?? 0)) / idleWall);
  out(
    `  idle for ${IDLE_SECONDS} s before the load: each replica ${idleReplica.map((c) => fmt(c, 3)).join(' / ')} cores, ` +
      `postgres backends ${fmt(idlePg / idleWall, 3)} cores`,
  );
  const before = await snapshot(cluster, emulator);
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const activity = await sampleActivity(ADMIN_URL, cluster.database);
  const result = await closedLoop(target, CONNECTIONS, seconds, WARMUP);
  const toUs = Number(process.hrtime.bigint() / 1000n);
  const seen = await activity.stop();
  const after = await snapshot(cluster, emulator);
  const wall = (after.at - before.at) / 1000;
  let pg = 0;
  for (const [pid, s] of after.postgres) pg += s - (before.postgres.get(pid) ?? 0);
  const replicas = after.replicas.map((s, i) => s - (before.replicas[i] ?? 0));
  const service = replicas.reduce((a, b) => a + b, 0);
  const machine =
    ((after.machine.busy - before.machine.busy) / (after.machine.total - before.machine.total)) * 2;
  const cpu: Record<string, number> = {
    service: service / wall,
    nginx: (after.nginx - before.nginx) / wall,
    postgres: pg / wall,
    emulator: (after.emulator - before.emulator) / wall,
    'load generator': (after.bench - before.bench) / wall,
    'whole machine': machine,
  };
  const ours = ['service', 'nginx', 'postgres', 'emulator', 'load generator'].reduce(
    (a, k) => a + (cpu[k] ?? 0),
    0,
  );
  // The snapshots cover warm-up and window: charge their CPU to every payment answered in that time.
  const payments = Math.max(1, result.succeededTotal);
  const perPaymentMs: Record<string, number> = {
    service: (service * 1000) / payments,
    nginx: ((after.nginx - before.nginx) * 1000) / payments,
    postgres: (pg * 1000) / payments,
    emulator: ((after.emulator - before.emulator) * 1000) / payments,
  };
  const figures: RunFigures = {
    name,
    perSecond: result.perSecond,
    p50: percentile(result.latencies, 50),
    p99: percentile(result.latencies, 99),
    errors: result.errors + result.errorsOutsideWindow,
    cpu,
    perPaymentMs,
    window: { fromUs, toUs },
  };
  out(
    `  ${fmt(result.perSecond)} payments/s (${fmt(result.succeeded)} in ${seconds} s), p50 ${fmt(figures.p50, 1)} ms, ` +
      `p99 ${fmt(figures.p99, 1)} ms, errors ${result.errors} (+${result.errorsOutsideWindow} warm-up/tail)`,
  );
  for (const [kind, { count, sample }] of result.errorKinds)
    out(`  error ${kind}: ${count}x; first body: ${sample.replace(/\s+/g, ' ').slice(0, 300)}`);
  out(
    `  CPU cores (of 2): ${Object.entries(cpu)
      .map(([k, v]) => `${k} ${fmt(v, 2)}`)
      .join(', ')}; per replica ${replicas.map((s) => fmt(s / wall, 2)).join(' / ')}`,
  );
  out(
    `  this benchmark's processes used ${fmt(ours, 2)} of the ${fmt(machine, 2)} cores busy on the machine; ` +
      'the rest was other work on it',
  );
  out(
    `  CPU ms per payment: ${Object.entries(perPaymentMs)
      .map(([k, v]) => `${k} ${fmt(v, 2)}`)
      .join(', ')}`,
  );
  out(`  database backends, average count by state | wait event | statement (${seen.samples} samples):`);
  for (const [key, count] of seen.seen.slice(0, 8))
    out(`    ${fmt(count / Math.max(1, seen.samples), 2)}  ${key}`);
  out(`  webhooks stored by the replicas so far: ${fmt(await webhooksStored(cluster))}`);
  results.push(figures);
  return figures;
}

async function profileRun(emulator: Child, emulatorPort: number): Promise<void> {
  const dir = tempDir('bench-scale-prof-');
  const cluster = await startCluster('prof', PROFILE_PROCESSES, true, emulatorPort, dir);
  const { window } = await measure(
    `profile: nginx + ${PROFILE_PROCESSES} process(es) under --cpu-prof`,
    cluster,
    emulator,
    PROFILE_SECONDS,
  );
  await cluster.stop(); // the profiles are written at exit
  const summary = summariseProfiles(dir, window);
  if (summary.busyMs === 0) throw new Error('the profiles hold no sample inside the load window');
  out(
    `\n  --cpu-prof over ${summary.files} replica(s): ${fmt(summary.busyMs / 1000, 1)} s of non-idle samples during the load (warm-up included; idle, start-up and shutdown left out; wall time, so on a busy machine it includes waiting for a core), self time:`,
  );
  out('  by package or area:');
  for (const [pkg, ms] of summary.packages.slice(0, 12))
    out(`    ${fmt((ms * 100) / summary.busyMs, 1)}%  ${pkg}`);
  out('  top functions:');
  for (const [fn, ms] of summary.functions.slice(0, 20))
    out(`    ${fmt((ms * 100) / summary.busyMs, 1)}%  ${fn}`);
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    void cleanupAll().finally(() => process.exit(130));
  });
}

const loadAtStart = loadAverage();
out(
  `scale-out benchmark ${new Date().toISOString()} at ${revision()}; load average at start ${loadAtStart}\n` +
    `a payment: POST /v1/payment_intents ${PAYMENT_BODY} (Stripe emulator out of process at 0 ms)`,
);
let failed = false;
try {
  const emulatorPort = await freePort();
  const started = performance.now();
  const emulator = spawnPayctl(
    'stripe-emulator',
    ['emulator', 'stripe', '--port', String(emulatorPort), '--host', '127.0.0.1'],
    serviceEnv({}),
  );
  await waitReady(emulator, emulatorPort, '/_emulator/faults', started, 60_000);
  await httpRequest(emulatorPort, 'DELETE', '/_emulator/faults');
  const scenarios: [string, string, number, boolean][] = [
    ['direct1', '1 process, no balancer', 1, false],
    ['lb1', 'nginx + 1 process', 1, true],
    ['lb3', 'nginx + 3 processes', 3, true],
  ];
  for (const [key, name, processes, withBalancer] of scenarios) {
    if (!runs(key)) continue;
    const cluster = await startCluster(key, processes, withBalancer, emulatorPort);
    await measure(name, cluster, emulator, SECONDS);
    await cluster.stop();
  }
  if (runs('profile')) await profileRun(emulator, emulatorPort);
} catch (error) {
  failed = true;
  process.stderr.write(`\nbenchmark failed: ${(error as Error).stack ?? String(error)}\n`);
} finally {
  await cleanupAll();
}

out(`\nsummary (load average at start ${loadAtStart}, at end ${loadAverage()})`);
out(
  '| run | payments/s | p50 / p99 ms | errors | CPU cores: service / postgres / nginx / emulator / machine | CPU ms per payment: service / postgres / nginx |',
);
out('|---|---|---|---|---|---|');
for (const r of results) {
  out(
    `| ${r.name} | ${fmt(r.perSecond)} | ${fmt(r.p50, 1)} / ${fmt(r.p99, 1)} | ${r.errors} | ` +
      `${fmt(r.cpu.service ?? 0, 2)} / ${fmt(r.cpu.postgres ?? 0, 2)} / ${fmt(r.cpu.nginx ?? 0, 2)} / ` +
      `${fmt(r.cpu.emulator ?? 0, 2)} / ${fmt(r.cpu['whole machine'] ?? 0, 2)} | ` +
      `${fmt(r.perPaymentMs.service ?? 0, 2)} / ${fmt(r.perPaymentMs.postgres ?? 0, 2)} / ${fmt(r.perPaymentMs.nginx ?? 0, 2)} |`,
  );
}
out(`command: npm run bench:scale (BENCH_SECONDS=${SECONDS} BENCH_CONNECTIONS=${CONNECTIONS})`);
process.exit(failed ? 1 : 0);
