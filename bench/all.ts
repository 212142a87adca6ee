// `npm run bench` (not part of the test command): every item of DESIGN section 14 in one run, side by
// side with the machine's own limits, as one table.
//   npm run bench                      builds dist/ and dist-bench/, then runs this
//   BENCH_ONLY=limits,card npm run bench   some parts (names below)
//   BENCH_QUICK=1 npm run bench        a short smoke run (seconds per part, small counts; not comparable)
// Each part is one of the existing benchmarks run as its own process (bench/payments.ts, hello.ts,
// webhooks.ts, wallets.ts, reconcile.ts, ledger.ts), one after the other; each cleans up after itself
// (also when stopped by a signal) and writes its figures to a JSON file (BENCH_RESULT_FILE), which this
// runner reads to print the table. A part that fails leaves its rows as "failed" and the run goes on.
// The limits are measured first (pgbench of the two-INSERT transaction, a fastify hello-world under the
// payments load tool) and again at the end, to show how much the shared machine moved during the run;
// ratios use the first. The table and every part's details go to bench-results/latest.md, the whole
// output to bench-results/latest.log, the figures to bench-results/latest.json.
// Knobs: BENCH_ONLY, BENCH_QUICK, BENCH_PART_TIMEOUT_SECONDS (default 1200), and every knob of the
// parts (BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_RECORDS, ...), passed through to each part as it is.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { type BenchResult, type BenchResultFile, fmt, numberEnv, revision } from './bench-env.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT_DIR = path.join(ROOT, 'bench-results');
const ADMIN_URL = process.env.DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const QUICK = process.env.BENCH_QUICK === '1';
const PART_TIMEOUT_MS = numberEnv('BENCH_PART_TIMEOUT_SECONDS', 1200) * 1000;

// ---------------------------------------------------------------------------------------------------
// The parts: which script, which of its own sub-parts (its BENCH_ONLY), and the quick run's settings
// (used only where the caller did not set the variable).

interface Step {
  name: string;
  script: string;
  /** The names BENCH_ONLY selects this step by. */
  parts: string[];
  /** The script's own BENCH_ONLY: the selected parts (true), or unset (false). */
  passOnly: boolean;
  /** The script's own BENCH_ONLY whatever was selected. */
  only?: string;
  quick: Record<string, string>;
}

const QUICK_LOAD = { BENCH_SECONDS: '3', BENCH_WARMUP_SECONDS: '1' };
const STEPS: Step[] = [
  {
    name: 'pgbench',
    script: 'payments.js',
    parts: ['pgbench'],
    passOnly: true,
    quick: { BENCH_PGBENCH_SECONDS: '3' },
  },
  { name: 'hello', script: 'hello.js', parts: ['hello'], passOnly: false, quick: QUICK_LOAD },
  {
    name: 'payments',
    script: 'payments.js',
    parts: ['card', 'latency', 'slow', 'embedded'],
    passOnly: true,
    quick: QUICK_LOAD,
  },
  {
    name: 'webhooks',
    script: 'webhooks.js',
    parts: ['inbound', 'outbound'],
    passOnly: true,
    quick: { BENCH_INBOUND_EVENTS: '3000', BENCH_OUTBOUND_EVENTS: '2000', BENCH_SECONDS: '4' },
  },
  {
    name: 'wallets',
    script: 'wallets.js',
    parts: ['wallets'],
    passOnly: false,
    quick: { ...QUICK_LOAD, BENCH_WALLETS: '10' },
  },
  {
    name: 'reconcile',
    script: 'reconcile.js',
    parts: ['reconcile'],
    passOnly: false,
    quick: { BENCH_RECORDS: '50000' },
  },
  {
    name: 'pgbench-end',
    script: 'payments.js',
    parts: ['end'],
    passOnly: false,
    only: 'pgbench',
    quick: { BENCH_PGBENCH_SECONDS: '3' },
  },
  { name: 'hello-end', script: 'hello.js', parts: ['end'], passOnly: false, quick: QUICK_LOAD },
  {
    name: 'ledger',
    script: 'ledger.js',
    parts: ['ledger'],
    passOnly: false,
    quick: { BENCH_TRANSFERS: '2000' },
  },
];
const ALIASES: Record<string, string[]> = {
  limits: ['pgbench', 'hello'],
  payments: ['card', 'latency', 'slow', 'embedded'],
  webhooks: ['inbound', 'outbound'],
};
/** Everything but the ledger scenarios, which are no section 14 item (BENCH_ONLY=ledger adds them). */
const DEFAULT_PARTS = STEPS.flatMap((step) => step.parts).filter((part) => part !== 'ledger');

function selectedParts(): Set<string> {
  const raw = process.env.BENCH_ONLY;
  if (!raw) return new Set(DEFAULT_PARTS);
  const known = new Set([...STEPS.flatMap((step) => step.parts), ...Object.keys(ALIASES)]);
  const parts = new Set<string>();
  for (const name of raw.split(',').map((part) => part.trim())) {
    if (!known.has(name))
      throw new Error(`BENCH_ONLY: unknown part ${name}; known: ${[...known].join(', ')}`);
    for (const part of ALIASES[name] ?? [name]) parts.add(part);
  }
  return parts;
}

// ---------------------------------------------------------------------------------------------------
// Running one part

interface StepOutcome {
  ran: boolean;
  exitCode: number | null;
  file?: BenchResultFile;
  seconds: number;
}

let current: ChildProcess | null = null;
let interrupted = false;
const log = (() => {
  mkdirSync(OUT_DIR, { recursive: true });
  return createWriteStream(path.join(OUT_DIR, 'latest.log'));
})();

function out(text: string): void {
  process.stdout.write(text);
  log.write(text);
}

async function runStep(step: Step, parts: Set<string>, scratch: string): Promise<StepOutcome> {
  const chosen = step.parts.filter((part) => parts.has(part));
  if (chosen.length === 0 || interrupted) return { ran: false, exitCode: null, seconds: 0 };
  const resultFile = path.join(scratch, `${step.name}.json`);
  const env: NodeJS.ProcessEnv = { ...process.env, BENCH_RESULT_FILE: resultFile };
  if (QUICK) for (const [key, value] of Object.entries(step.quick)) env[key] ??= value;
  if (step.passOnly) env.BENCH_ONLY = chosen.join(',');
  else if (step.only) env.BENCH_ONLY = step.only;
  else delete env.BENCH_ONLY;
  const script = fileURLToPath(new URL(`./${step.script}`, import.meta.url));
  out(
    `\n=== ${step.name}: node ${path.relative(ROOT, script)}${env.BENCH_ONLY ? ` (BENCH_ONLY=${env.BENCH_ONLY})` : ''} ===\n`,
  );
  const started = performance.now();
  const child = spawn(process.execPath, [script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  current = child;
  child.stdout.on('data', (chunk: Buffer) => out(chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    log.write(chunk);
  });
  // Past its time the part is asked to stop (it cleans up on SIGTERM), then killed.
  let killTimer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    out(`\n${step.name}: still running after ${PART_TIMEOUT_MS / 1000} s, stopping it\n`);
    child.kill('SIGTERM');
    killTimer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  }, PART_TIMEOUT_MS);
  const exitCode = await new Promise<number | null>((resolve) => {
    child.once('error', (error) => {
      out(`${step.name}: could not run: ${error.message}\n`);
      resolve(-1);
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null)));
  });
  clearTimeout(timer);
  clearTimeout(killTimer);
  current = null;
  const seconds = (performance.now() - started) / 1000;
  const file = existsSync(resultFile)
    ? (JSON.parse(readFileSync(resultFile, 'utf8')) as BenchResultFile)
    : undefined;
  out(`=== ${step.name}: exit ${exitCode} after ${fmt(seconds)} s ===\n`);
  return { ran: true, exitCode, seconds, ...(file ? { file } : {}) };
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    out(`\n${signal}: stopping the running part (it cleans up after itself), then the table so far\n`);
    current?.kill('SIGTERM');
  });
}

// ---------------------------------------------------------------------------------------------------
// The table

interface Row {
  item: string;
  measured: string;
  target: string;
  verdict: string;
  ratio: string;
  load: string;
  detail?: string;
}

/** Three decimals, or two significant digits below 0.01 (a ratio of 0.0004 is not 0.000). */
const ratio = (r: number) => (r >= 0.01 || r === 0 ? fmt(r, 3) : r.toPrecision(2));

function table(outcomes: Map<string, StepOutcome>): { rows: Row[]; notes: string[] } {
  const found = (step: string, key: string): BenchResult | undefined =>
    outcomes.get(step)?.file?.results.find((result) => result.key === key);
  const value = (step: string, key: string) => found(step, key)?.value;
  const loadOf = (step: string) => {
    const file = outcomes.get(step)?.file;
    return file ? `${file.loadStart.split(' ')[0]} -> ${file.loadEnd.split(' ')[0]}` : '-';
  };
  /** What to write where a figure is missing: the part was not selected, failed, or skipped it. */
  const absent = (step: string) => {
    const outcome = outcomes.get(step);
    if (!outcome?.ran) return 'not run';
    return outcome.exitCode === 0 ? 'not measured' : `failed (exit ${outcome.exitCode})`;
  };
  const pgbench = value('pgbench', 'pgbench_tps');
  const hello = value('hello', 'hello_per_s');
  const ratios = (perSecond: number, withPgbench = true) => {
    const parts: string[] = [];
    if (withPgbench && pgbench) parts.push(`${ratio(perSecond / pgbench)} of pgbench`);
    if (hello) parts.push(`${ratio(perSecond / hello)} of hello-world`);
    return parts.join(', ') || '-';
  };
  const rows: Row[] = [];

  interface Item {
    item: string;
    step: string;
    key: string;
    unit: string;
    target: string;
    met: (value: number) => boolean;
    /** Counts that must be 0 for the item to be met (errors, unanswered requests). */
    failures?: string[];
    /** Figures that must be 1 (money exact, ledger clean). */
    checks?: string[];
    ratio?: 'both' | 'hello';
    digits?: number;
    /** A verdict only when this holds (e.g. the full 1,000,000 records). */
    comparable?: () => string | null;
  }
  const item = (spec: Item) => {
    const result = found(spec.step, spec.key);
    if (!result) {
      rows.push({
        item: spec.item,
        measured: absent(spec.step),
        target: spec.target,
        verdict: '-',
        ratio: '-',
        load: loadOf(spec.step),
      });
      return;
    }
    const failures = (spec.failures ?? []).reduce((sum, key) => sum + (value(spec.step, key) ?? 0), 0);
    const failedChecks = (spec.checks ?? []).filter((key) => value(spec.step, key) !== 1);
    const notComparable = spec.comparable?.() ?? null;
    let verdict = spec.met(result.value) ? 'met' : 'MISS';
    if (failures > 0) verdict = `MISS (${fmt(failures)} failed requests)`;
    if (failedChecks.length > 0) verdict = `MISS (${failedChecks.join(', ')})`;
    if (notComparable) verdict = `n/a (${notComparable})`;
    rows.push({
      item: spec.item,
      measured: `${fmt(result.value, spec.digits ?? 0)} ${spec.unit}`,
      target: spec.target,
      verdict,
      ratio: spec.ratio ? ratios(result.value, spec.ratio === 'both') : '-',
      load: loadOf(spec.step),
      ...(result.detail ? { detail: result.detail } : {}),
    });
  };

  const pgbenchEnd = value('pgbench-end', 'pgbench_tps');
  rows.push({
    item: 'machine limit: pgbench, two-INSERT transaction (payment + outbox row)',
    measured: pgbench
      ? `${fmt(pgbench)} TPS${pgbenchEnd ? ` (${fmt(pgbenchEnd)} at the end)` : ''}`
      : absent('pgbench'),
    target: 'reference (DESIGN: 4,500-5,300)',
    verdict: '-',
    ratio: '-',
    load: loadOf('pgbench'),
    ...(found('pgbench', 'pgbench_tps')?.detail ? { detail: found('pgbench', 'pgbench_tps')?.detail } : {}),
  });
  const helloEnd = value('hello-end', 'hello_per_s');
  rows.push({
    item: 'machine limit: fastify hello-world under the payments load tool',
    measured: hello
      ? `${fmt(hello)} req/s${helloEnd ? ` (${fmt(helloEnd)} at the end)` : ''}`
      : absent('hello'),
    target: 'reference (DESIGN: about 30,000)',
    verdict: '-',
    ratio: '-',
    load: loadOf('hello'),
    ...(found('hello', 'hello_per_s')?.detail ? { detail: found('hello', 'hello_per_s')?.detail } : {}),
  });
  item({
    item: 'card payments/s (PostgreSQL, emulator out of process at 0 ms)',
    step: 'payments',
    key: 'card_per_s',
    unit: '/s',
    target: '>= 1,000/s',
    met: (v) => v >= 1000,
    failures: ['card_errors'],
    ratio: 'both',
  });
  const card = value('payments', 'card_per_s');
  rows.push({
    item: 'card payments/s ÷ pgbench TPS (same run)',
    measured:
      card !== undefined && pgbench
        ? ratio(card / pgbench)
        : card === undefined
          ? absent('payments')
          : absent('pgbench'),
    target: '>= 0.20',
    verdict: card !== undefined && pgbench ? (card / pgbench >= 0.2 ? 'met' : 'MISS') : '-',
    ratio: '-',
    load: loadOf('payments'),
  });
  item({
    item: 'latency at 200 payments/s, p50',
    step: 'payments',
    key: 'latency_p50_ms',
    unit: 'ms',
    target: '<= 3 ms',
    met: (v) => v <= 3,
    failures: ['latency_errors'],
    digits: 1,
  });
  item({
    item: 'latency at 200 payments/s, p99',
    step: 'payments',
    key: 'latency_p99_ms',
    unit: 'ms',
    target: '<= 10 ms',
    met: (v) => v <= 10,
    failures: ['latency_errors'],
    digits: 1,
  });
  item({
    item: 'card payments/s with the provider at 250 ms',
    step: 'payments',
    key: 'slow_per_s',
    unit: '/s',
    target: '>= 500/s',
    met: (v) => v >= 500,
    failures: ['slow_errors'],
    ratio: 'both',
  });
  item({
    item: 'embedded mode (PGlite) payments/s',
    step: 'payments',
    key: 'embedded_per_s',
    unit: '/s',
    target: '>= 200/s',
    met: (v) => v >= 200,
    failures: ['embedded_errors'],
    ratio: 'hello',
  });
  item({
    item: 'inbound webhooks verified, deduplicated, stored/s',
    step: 'webhooks',
    key: 'inbound_per_s',
    unit: '/s',
    target: '>= 3,000/s',
    met: (v) => v >= 3000,
    failures: ['inbound_failed'],
    ratio: 'both',
  });
  item({
    item: 'inbound processing lag p99 at 500/s',
    step: 'webhooks',
    key: 'inbound_lag_p99_ms',
    unit: 'ms',
    target: '< 1,000 ms',
    met: (v) => v < 1000,
    failures: ['inbound_lag_failed'],
  });
  item({
    item: 'outbound deliveries/s (a backlog drained by one worker process)',
    step: 'webhooks',
    key: 'outbound_per_s',
    unit: '/s',
    target: '>= 2,000/s',
    met: (v) => v >= 2000,
    ratio: 'both',
  });
  item({
    item: 'outbound lag p99 at 500 events/s, one process with both roles',
    step: 'webhooks',
    key: 'outbound_lag_all_p99_ms',
    unit: 'ms',
    target: '< 1,000 ms',
    met: (v) => v < 1000,
    failures: ['outbound_lag_all_failed'],
  });
  item({
    item: 'outbound lag p99 at 500 events/s, an api process beside a worker process',
    step: 'webhooks',
    key: 'outbound_lag_split_p99_ms',
    unit: 'ms',
    target: '< 1,000 ms',
    met: (v) => v < 1000,
    failures: ['outbound_lag_split_failed'],
  });
  const records = value('reconcile', 'reconcile_records');
  const fullSize = () =>
    records !== undefined && records !== 1_000_000 ? `${fmt(records)} records, not 1,000,000` : null;
  item({
    item: 'reconciliation of 1,000,000 provider records, time',
    step: 'reconcile',
    key: 'reconcile_seconds',
    unit: 's',
    target: '<= 60 s',
    met: (v) => v <= 60,
    digits: 1,
    comparable: fullSize,
  });
  item({
    item: 'reconciliation of 1,000,000 provider records, peak RSS',
    step: 'reconcile',
    key: 'reconcile_rss_mb',
    unit: 'MB',
    target: '<= 256 MB',
    met: (v) => v <= 256,
    comparable: fullSize,
  });
  item({
    item: 'wallet payments/s with ledger invariants',
    step: 'wallets',
    key: 'wallets_per_s',
    unit: '/s',
    target: '>= 2,000/s',
    met: (v) => v >= 2000,
    failures: ['wallets_errors'],
    checks: ['wallets_money_exact', 'wallets_verify_clean'],
    ratio: 'both',
  });
  // The service's RSS under load: the largest seen by any part that loads a service process.
  const rss: [string, string, string][] = [
    ['payments', 'payments_rss_mb', 'payment runs (sampled, up to 256 connections)'],
    ['wallets', 'wallets_rss_mb', 'wallet run (sampled)'],
    ['webhooks', 'inbound_rss_mb', 'after the inbound runs'],
    ['webhooks', 'outbound_rss_mb', 'after the outbound runs'],
  ];
  const seen = rss
    .map(([step, key, what]) => ({ mb: value(step, key), what, step }))
    .filter((entry): entry is { mb: number; what: string; step: string } => entry.mb !== undefined);
  const largest = seen.reduce<(typeof seen)[number] | undefined>(
    (max, e) => (!max || e.mb > max.mb ? e : max),
    undefined,
  );
  rows.push({
    item: 'service RSS under load (largest over the parts)',
    measured: largest ? `${fmt(largest.mb)} MB` : absent('payments'),
    target: '<= 300 MB',
    verdict: largest ? (largest.mb <= 300 ? 'met' : 'MISS') : '-',
    ratio: '-',
    load: largest ? loadOf(largest.step) : '-',
    ...(seen.length > 0 ? { detail: seen.map((e) => `${e.what} ${fmt(e.mb)} MB`).join('; ') } : {}),
  });
  // Embedded mode's process holds the database (PGlite) too: its own row rather than folded in above.
  item({
    item: 'service RSS under load, embedded mode (PGlite inside the process)',
    step: 'payments',
    key: 'embedded_rss_mb',
    unit: 'MB',
    target: '<= 300 MB',
    met: (v) => v <= 300,
  });
  item({
    item: 'start to ready on PostgreSQL (restart on a migrated database)',
    step: 'payments',
    key: 'ready_restart_ms',
    unit: 'ms',
    target: '<= 1,500 ms',
    met: (v) => v <= 1500,
  });

  const notes: string[] = [];
  const stored = value('payments', 'webhooks_back_stored');
  const expected = value('payments', 'webhooks_back_expected');
  if (stored !== undefined && expected !== undefined) {
    notes.push(
      `Webhooks back from the emulator, stored by the service / payment intents the emulator made: ${fmt(stored)} / ${fmt(expected)} ` +
        `(${stored >= expected ? 'one per payment' : 'MISSING some'}); ${found('payments', 'webhooks_back_stored')?.detail ?? ''}`,
    );
  }
  for (const result of outcomes.get('ledger')?.file?.results ?? []) {
    rows.push({
      item: `ledger: ${result.detail ?? result.key}`,
      measured: `${fmt(result.value)} postings/s`,
      target: '-',
      verdict: '-',
      ratio: ratios(result.value),
      load: loadOf('ledger'),
    });
  }
  return { rows, notes };
}

// ---------------------------------------------------------------------------------------------------
// The machine

async function machine(): Promise<string> {
  const lines = [`${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}`];
  try {
    const mem = execFileSync('free', ['-m'], { encoding: 'utf8' }).split('\n')[1]?.trim().split(/\s+/);
    if (mem) lines.push(`memory (free -m): ${mem[1]} MB total, ${mem[6]} MB available at the start`);
  } catch {
    // free is not everywhere
  }
  try {
    const client = new pg.Client({ connectionString: ADMIN_URL });
    await client.connect();
    const { rows } = await client.query<{ version: string }>('select version()');
    const settings = await client.query<{ name: string; setting: string }>(
      `select name, setting from pg_settings where name in ('fsync', 'synchronous_commit', 'shared_buffers', 'max_connections')`,
    );
    await client.end();
    lines.push(
      `${rows[0]?.version.split(' on ')[0] ?? 'PostgreSQL'} on the same machine (${settings.rows.map((s) => `${s.name}=${s.setting}`).join(', ')})`,
    );
  } catch (error) {
    lines.push(`PostgreSQL: not reachable at ${ADMIN_URL} (${(error as Error).message})`);
  }
  return lines.join('; ');
}

function markdown(rows: Row[], notes: string[], header: string[]): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const lines = [
    ...header,
    '',
    '| item | measured | target | met | ratio to the machine limit | load (part start -> end) |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (row) =>
        `| ${cell(row.item)} | ${cell(row.measured)} | ${cell(row.target)} | ${row.verdict} | ${cell(row.ratio)} | ${row.load} |`,
    ),
    '',
    'Details (per item, from the part that measured it):',
    '',
    // A detail shared by consecutive rows (p50 and p99 of one run) is written once, under the first.
    ...rows
      .filter((row, i) => row.detail && row.detail !== rows[i - 1]?.detail)
      .map((row) => `- ${row.item}: ${row.detail}`),
    ...notes.map((note) => `- ${note}`),
    '',
  ];
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------

const parts = selectedParts();
const scratch = mkdtempSync(path.join(tmpdir(), 'bench-all-'));
const startedAt = new Date();
const loadAtStart = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const commit = revision();
const machineLine = await machine();
const knobs = Object.entries(process.env)
  .filter(([key]) => key.startsWith('BENCH_'))
  .map(([key, val]) => `${key}=${val}`)
  .join(' ');
out(
  `npm run bench ${startedAt.toISOString()} at ${commit}${QUICK ? ' (QUICK: short smoke run, figures not comparable)' : ''}\n` +
    `machine: ${machineLine}\nload average at start: ${loadAtStart}\nparts: ${[...parts].join(', ')}\n`,
);
const outcomes = new Map<string, StepOutcome>();
try {
  for (const step of STEPS) outcomes.set(step.name, await runStep(step, parts, scratch));
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
const loadAtEnd = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const minutes = (Date.now() - startedAt.getTime()) / 60_000;
const { rows, notes } = table(outcomes);
const failed = [...outcomes]
  .filter(([, outcome]) => outcome.ran && outcome.exitCode !== 0)
  .map(([name]) => name);
const header = [
  `Run ${startedAt.toISOString()} at ${commit}, ${fmt(minutes, 1)} minutes${QUICK ? '; QUICK smoke run (BENCH_QUICK=1): short windows and small counts, figures not comparable with the targets' : ''}.`,
  `Command: \`${knobs ? `${knobs} ` : ''}npm run bench\`. Load average (1, 5, 15 min) at start ${loadAtStart}, at end ${loadAtEnd}.`,
  `Machine: ${machineLine}.`,
  ...(interrupted
    ? ['INTERRUPTED: the part running then was stopped part-way; its figures are not to be used.']
    : []),
  ...(failed.length > 0
    ? [`Parts that failed: ${failed.join(', ')} (their output is in bench-results/latest.log).`]
    : []),
  `Parts: ${[...outcomes]
    .filter(([, o]) => o.ran)
    .map(([name, o]) => `${name} ${fmt(o.seconds)} s${o.exitCode === 0 ? '' : ` (exit ${o.exitCode})`}`)
    .join(', ')}.`,
];
const text = markdown(rows, notes, header);
out(`\n${text}`);
mkdirSync(OUT_DIR, { recursive: true });
writeFileSync(path.join(OUT_DIR, 'latest.md'), text);
writeFileSync(
  path.join(OUT_DIR, 'latest.json'),
  `${JSON.stringify({ startedAt, commit, loadAtStart, loadAtEnd, machine: machineLine, outcomes: Object.fromEntries(outcomes) }, null, 2)}\n`,
);
out(
  `\ntable written to ${path.relative(ROOT, path.join(OUT_DIR, 'latest.md'))}${failed.length ? `; parts that failed: ${failed.join(', ')}` : ''}\n`,
);
log.end();
process.exitCode = failed.length > 0 || interrupted ? 1 : 0;
