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
import { type BenchResultFile, fmt, numberEnv, revision } from './bench-env.js';
import { markdown, type StepOutcome, table } from './bench-table.js';

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
      `select name, current_setting(name) as setting from pg_settings where name in ('fsync', 'synchronous_commit', 'shared_buffers', 'max_connections')`,
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
