// The table `npm run bench` prints (bench/all.ts): every item of DESIGN section 14 from the figures the
// parts recorded, with its target, whether it was met, its ratio to the machine's limits measured in the
// same run, and the load average while its part ran.
import type { BenchResult, BenchResultFile } from './bench-env.js';
import { fmt } from './bench-env.js';

/** What one part of the run left: whether it ran, how it ended, the figures it recorded. */
export interface StepOutcome {
  ran: boolean;
  exitCode: number | null;
  file?: BenchResultFile;
  seconds: number;
}

// ---------------------------------------------------------------------------------------------------
// The table

export interface Row {
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

export function table(outcomes: Map<string, StepOutcome>): { rows: Row[]; notes: string[] } {
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

export function markdown(rows: Row[], notes: string[], header: string[]): string {
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
