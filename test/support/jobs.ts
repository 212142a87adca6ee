// Helpers for job runner tests: bounded waits on outcomes (never fixed sleeps), waiting for a runner
// to complete polls that started after a given moment, and reading Prometheus text.
import type { JobRunner } from '../../src/jobs/runner.js';
import { waitFor } from './wait.js';

export { waitFor };

/**
 * Waits until `runner` has finished `count` polls. Every poll assigns a new lastPollAt object, so the
 * second one to finish certainly started after this call: whatever was due by then has been seen.
 */
export async function polls(runner: JobRunner, count = 2): Promise<void> {
  for (let i = 0; i < count; i++) {
    const before = runner.lastPollAt;
    await waitFor('a job runner poll', () => runner.lastPollAt !== before);
  }
}

/** The value of one sample in Prometheus text, matched by name and a subset of its labels. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}) {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}
