// Chaos suite (issue 11): `npm run chaos` (builds dist/, then runs the built service, the provider
// emulators, a private PostgreSQL cluster and a private redis-server as real processes). Not part of
// `npm test`. Each scenario prints what it did and what it checked; any violation exits 1.
//   kills     SIGKILL the service at a random point during CHAOS_PAYMENTS in-flight payments,
//             CHAOS_ROUNDS times; restart, recover, retry every key, check the money
//   postgres  a private PostgreSQL cluster stopped (immediate) and started under load; the service
//             recovers by itself
//   redis     a private Redis flushed, stopped and started under load
//   provider  Stripe down (connection refused: circuit opens, fallback to PayPal), Stripe slower than
//             the timeout (unknown outcomes settled later, no double charge), circuits close again
//   one-key   CHAOS_ONE_KEY_REQUESTS (10,000) concurrent requests with one Idempotency-Key
// CHAOS_ONLY=kills,postgres,... runs some. DATABASE_ADMIN_URL defaults to the shared PostgreSQL, which
// is only used to create and drop this run's databases; it is never stopped.
import { numberEnv, revision } from './bench-env.js';
import { note, Verdict } from './chaos-checks.js';
import { processKills } from './chaos-kills.js';
import { oneKey } from './chaos-one-key.js';
import { postgresRestart } from './chaos-postgres.js';
import { providerFaults } from './chaos-provider.js';
import { redisFaults } from './chaos-redis.js';
import { cleanupAll, cleanupOnSignals, loadAverage } from './payments-procs.js';

const ADMIN_URL = process.env.DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROUNDS = numberEnv('CHAOS_ROUNDS', 10);
const PAYMENTS = numberEnv('CHAOS_PAYMENTS', 1000);
const ONE_KEY_REQUESTS = numberEnv('CHAOS_ONE_KEY_REQUESTS', 10_000);
const ONLY = process.env.CHAOS_ONLY?.split(',').filter(Boolean);

const SCENARIOS: { name: string; title: string; run: (verdict: Verdict) => Promise<void> }[] = [
  {
    name: 'kills',
    title: `process kills: ${ROUNDS} rounds of ${PAYMENTS} in-flight payments, SIGKILL at a random point`,
    run: (v) => processKills(v, ADMIN_URL, ROUNDS, PAYMENTS),
  },
  {
    name: 'postgres',
    title: 'PostgreSQL (private cluster) stopped immediately and started again under load',
    run: (v) => postgresRestart(v),
  },
  {
    name: 'redis',
    title: 'Redis (private) flushed, stopped and started under load',
    run: (v) => redisFaults(v, ADMIN_URL),
  },
  {
    name: 'provider',
    title: 'provider outage and latency: circuit, fallback to PayPal, timeouts, recovery',
    run: (v) => providerFaults(v, ADMIN_URL),
  },
  {
    name: 'one-key',
    title: `${ONE_KEY_REQUESTS} concurrent requests with one Idempotency-Key`,
    run: (v) => oneKey(v, ADMIN_URL, ONE_KEY_REQUESTS),
  },
];

cleanupOnSignals();

const started = performance.now();
const loadAtStart = loadAverage();
process.stdout.write(
  `chaos suite ${new Date().toISOString()} at ${revision()}; load average at start ${loadAtStart}\n` +
    `CHAOS_ROUNDS=${ROUNDS} CHAOS_PAYMENTS=${PAYMENTS} CHAOS_ONE_KEY_REQUESTS=${ONE_KEY_REQUESTS}` +
    `${ONLY ? ` CHAOS_ONLY=${ONLY.join(',')}` : ''}\n`,
);
const results: { name: string; seconds: number; violations: string[]; load: string }[] = [];
for (const scenario of SCENARIOS) {
  if (ONLY && !ONLY.includes(scenario.name)) continue;
  process.stdout.write(`\n== ${scenario.name}: ${scenario.title} (load ${loadAverage()})\n`);
  const verdict = new Verdict(scenario.name);
  const at = performance.now();
  try {
    await scenario.run(verdict);
  } catch (error) {
    verdict.check(false, 'scenario ran to the end', (error as Error).stack ?? String(error));
  } finally {
    await cleanupAll();
  }
  const seconds = (performance.now() - at) / 1000;
  note(
    `${scenario.name}: ${seconds.toFixed(0)} s, ${verdict.violations.length} violations, load ${loadAverage()}`,
  );
  results.push({ name: scenario.name, seconds, violations: verdict.violations, load: loadAverage() });
}

process.stdout.write(
  `\nsummary (${((performance.now() - started) / 1000).toFixed(0)} s; load average at start ${loadAtStart}, at end ${loadAverage()})\n`,
);
for (const r of results) {
  process.stdout.write(
    `| ${r.name} | ${r.violations.length === 0 ? 'pass' : `FAIL (${r.violations.length})`} | ${r.seconds.toFixed(0)} s | load ${r.load} |\n`,
  );
  for (const v of r.violations) process.stdout.write(`    ${v.slice(0, 2000)}\n`);
}
const failed = results.some((r) => r.violations.length > 0);
process.stdout.write(failed ? '\nchaos: FAILED\n' : '\nchaos: all checks passed\n');
process.exit(failed ? 1 : 0);
