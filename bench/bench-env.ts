// What every benchmark script reads and prints the same way: positive numbers from the environment,
// figures with thousands separators, and the commit measured.
import { execFileSync } from 'node:child_process';

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
