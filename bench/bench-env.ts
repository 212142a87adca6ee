// What every benchmark script reads and prints the same way: positive numbers from the environment,
// figures with thousands separators, and the commit measured.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

/** A positive number from `name`, or `fallback` when unset; anything else stops the run. */
export function numberEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

export const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : 'n/a';

/** The commit measured, and whether src/ had uncommitted changes (the build includes them). */
export function revision(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).trim();
    return dirty ? `${head} + ${dirty.split('\n').length} uncommitted src/ files` : head;
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------------------------------------------
// Results for `npm run bench` (bench/all.ts): each benchmark, besides printing its figures, records
// the numbers under stable keys and, when BENCH_RESULT_FILE is set, writes them there as JSON when it
// ends (also when it fails part-way: what was measured is kept).

export interface BenchResult {
  key: string;
  value: number;
  /** What the number alone does not say (errors, percentiles, CPU per operation). */
  detail?: string;
}

export interface BenchResultFile {
  loadStart: string;
  loadEnd: string;
  results: BenchResult[];
}

const results: BenchResult[] = [];
const loadAtImport = currentLoad();

function currentLoad(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'unknown';
  }
}

export function result(key: string, value: number, detail?: string): void {
  results.push({ key, value, ...(detail ? { detail } : {}) });
}

/** Writes the recorded results to BENCH_RESULT_FILE; nothing when it is unset. */
export function writeResults(): void {
  const file = process.env.BENCH_RESULT_FILE;
  if (!file) return;
  const out: BenchResultFile = { loadStart: loadAtImport, loadEnd: currentLoad(), results };
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
}
