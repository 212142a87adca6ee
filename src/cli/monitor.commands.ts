// payctl monitor --duration 1h --threshold 1 (runbook 002's monitor-payments.sh, runbook 004's success
// rate loop): samples the payment attempts made since the watch began every --interval, prints each
// sample (success rate with declines excluded, failure percentage, error budget), and exits 1 as soon as
// the failure percentage goes above --threshold. The counts come from GET /admin/payments/stats (or the
// same service in process), which reads the database every replica writes: the whole fleet, not one pod.
import type { Command } from 'commander';
import { z } from 'zod';
import { duration, type PaymentStats } from '../modules/payments/operator-payments.js';
import { type Globals, inProcess, parseOption, remoteClient } from './context.js';

const MONTH_SECONDS = 30 * 86_400;

const percent = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,3}(\.\d{1,4})?$/, { message: `must be a percentage from ${min} to ${max}` })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { message: `must be a percentage from ${min} to ${max}` });
const count = z
  .string()
  .regex(/^\d{1,9}$/, { message: 'must be a positive integer' })
  .transform(Number)
  .refine((n) => n >= 1, { message: 'must be a positive integer' });

type StatsQuery = { since: number } | { window: number };
type StatsSource = (query: StatsQuery) => Promise<PaymentStats>;

/** Runs `watch` with a way to read attempt counts: over --url, or from one in-process service. */
async function withStats<T>(g: Globals, watch: (stats: StatsSource) => Promise<T>): Promise<T> {
  if (g.url) {
    const client = remoteClient(g);
    return watch((query) =>
      client.request<PaymentStats>(
        'GET',
        `/admin/payments/stats?${new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]))}`,
      ),
    );
  }
  return inProcess(g.config, ({ services }) =>
    watch((query) =>
      services.operatorPayments.stats(
        'since' in query ? { since: new Date(query.since * 1000) } : { window: query.window },
      ),
    ),
  );
}

interface Settings {
  duration: number;
  interval: number;
  threshold: number;
  slo: number;
  minAttempts: number;
}

interface Sample {
  object: 'monitor_sample';
  at: string;
  since: string;
  attempts: number;
  outcomes: PaymentStats['outcomes'];
  success_rate: number | null;
  failure_percent: number;
  threshold_percent: number;
  error_budget: { slo_percent: number; burn_rate: number; used_30d_percent: number };
  by_provider: PaymentStats['by_provider'];
  breached: boolean;
}

/**
 * One sample of the watch window. The error budget is the SLO's allowance of failed attempts (0.1% at
 * 99.9%): the burn rate is how many times faster than that allowance the window fails, and the 30-day
 * figure adds the window to the 30 days before the watch began (runbook 000's "0.05% consumed").
 */
function sampleOf(window: PaymentStats, month: PaymentStats, s: Settings): Sample {
  const { succeeded, failed } = window.outcomes;
  const judged = succeeded + failed;
  const budget = (100 - s.slo) / 100;
  const failureRatio = judged === 0 ? 0 : failed / judged;
  const monthFailed = month.outcomes.failed + failed;
  const monthJudged = month.outcomes.succeeded + month.outcomes.failed + judged;
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    object: 'monitor_sample',
    at: new Date(window.until * 1000).toISOString(),
    since: new Date(window.since * 1000).toISOString(),
    attempts: window.attempts,
    outcomes: window.outcomes,
    success_rate: window.success_rate,
    failure_percent: round(failureRatio * 100),
    threshold_percent: s.threshold,
    error_budget: {
      slo_percent: s.slo,
      burn_rate: round(failureRatio / budget),
      used_30d_percent: monthJudged === 0 ? 0 : round((monthFailed / monthJudged / budget) * 100),
    },
    by_provider: window.by_provider,
    breached: judged >= s.minAttempts && failureRatio * 100 > s.threshold,
  };
}

const COLUMNS: [string, number][] = [
  ['TIME', 20],
  ['ATTEMPTS', 8],
  ['SUCCEEDED', 9],
  ['FAILED', 6],
  ['DECLINED', 8],
  ['PENDING', 7],
  ['SUCCESS_RATE', 12],
  ['FAILURES', 8],
  ['BUDGET_BURN', 11],
  ['BUDGET_USED_30D', 15],
];

function printSample(g: Globals, sample: Sample): void {
  if (g.json) {
    // One object per line, so a script can follow the watch as it goes.
    process.stdout.write(`${JSON.stringify(sample)}\n`);
    return;
  }
  const o = sample.outcomes;
  const cells = [
    sample.at.replace(/\.\d+Z$/, 'Z'),
    sample.attempts,
    o.succeeded,
    o.failed,
    o.declined,
    o.pending,
    sample.success_rate === null ? '-' : `${(sample.success_rate * 100).toFixed(2)}%`,
    `${sample.failure_percent.toFixed(2)}%`,
    `${sample.error_budget.burn_rate}x`,
    `${sample.error_budget.used_30d_percent}%`,
  ];
  console.log(
    cells
      .map((cell, i) => String(cell).padEnd(COLUMNS[i]?.[1] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

async function watch(g: Globals, s: Settings, stats: StatsSource): Promise<Sample> {
  const month = await stats({ window: MONTH_SECONDS });
  const since = month.until;
  if (!g.json) {
    console.log(
      `Watching payment attempts from ${new Date(since * 1000).toISOString()} for ${s.duration} s, every ${s.interval} s; ` +
        `threshold ${s.threshold}% failures (declines excluded), SLO ${s.slo}%`,
    );
    console.log(
      COLUMNS.map(([name, width]) => name.padEnd(width))
        .join('  ')
        .trimEnd(),
    );
  }
  // How long to watch is the operator's wall-clock time, not business time: the CLI's own clock.
  const deadline = Date.now() + s.duration * 1000;
  for (;;) {
    const sample = sampleOf(await stats({ since }), month, s);
    printSample(g, sample);
    if (sample.breached) return sample;
    const left = deadline - Date.now();
    if (left <= 0) return sample;
    await new Promise((resolve) => setTimeout(resolve, Math.min(s.interval * 1000, left)));
  }
}

export function registerMonitorCommands(program: Command, globals: () => Globals): void {
  program
    .command('monitor')
    .description(
      'Watch the payment success rate (declines excluded) and error budget; exit 1 once failures exceed --threshold',
    )
    .option('--duration <duration>', 'how long to watch: 90s, 30m, 1h, 24h (at most 31d)', '1h')
    .option('--threshold <percent>', 'highest tolerated share of failed attempts, in percent', '1')
    .option('--interval <duration>', 'time between samples: 10s, 1m', '10s')
    .option('--slo <percent>', 'availability objective whose error budget is reported', '99.9')
    .option('--min-attempts <n>', 'judge the failure percentage only from this many outcomes on', '1')
    .action(
      async (options: {
        duration: string;
        threshold: string;
        interval: string;
        slo: string;
        minAttempts: string;
      }) => {
        const g = globals();
        const settings: Settings = {
          duration: parseOption(duration(31 * 86_400), options.duration, '--duration'),
          interval: parseOption(duration(86_400), options.interval, '--interval'),
          threshold: parseOption(percent(0, 100), options.threshold, '--threshold'),
          slo: parseOption(percent(50, 99.9999), options.slo, '--slo'),
          minAttempts: parseOption(count, options.minAttempts, '--min-attempts'),
        };
        const last = await withStats(g, (stats) => watch(g, settings, stats));
        const judged = last.outcomes.succeeded + last.outcomes.failed;
        if (last.breached) {
          throw new Error(
            `failures at ${last.failure_percent}% are above the threshold of ${settings.threshold}% ` +
              `(${last.outcomes.failed} of ${judged} attempts failed since ${last.since}, declines excluded)`,
          );
        }
        const summary = `no breach: ${last.failure_percent}% failures over ${judged} attempts (threshold ${settings.threshold}%)`;
        if (g.json) {
          process.stdout.write(
            `${JSON.stringify({ object: 'monitor_summary', breached: false, summary })}\n`,
          );
        } else console.log(summary);
      },
    );
}
