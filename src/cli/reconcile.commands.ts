// payctl reconcile run|report (runbooks 003 and 004): a reconciliation run of the providers' records of
// a window against ours, or the scheduled pending pass, and the stored report of a run. In process the
// run goes through the reconciliation service on the configured database (progress from its pages);
// over --url it starts the run on the service and follows its counts until it ends.
import type { Command } from 'commander';
import {
  type FindingObject,
  providerSchema,
  type RunObject,
  type RunReport,
  sinceSchema,
} from '../modules/reconciliation/reconciliation.js';
import type { RunCounts } from '../modules/reconciliation/reconciliation.table.js';
import { type Globals, inProcess, parseOption, remoteClient } from './context.js';
import { printJson, printTable } from './output.js';

const cliActor = () => ({ type: 'cli' as const, id: process.env.USER ?? null });
const FOLLOW_EVERY_MS = 500;
const REPORT_PAGE = 1000;

/** One progress line on stderr, rewritten in place on a terminal; silent for scripts. */
function progressLine(g: Globals) {
  const live = process.stderr.isTTY && !g.json;
  let last = 0;
  return {
    show(counts: RunCounts | Record<string, number>) {
      if (!live || performance.now() - last < 200) return;
      last = performance.now();
      const found =
        (counts.status_mismatch ?? 0) +
        (counts.unknown_at_our_side ?? 0) +
        (counts.missing_at_provider ?? 0) +
        (counts.duplicate ?? 0);
      process.stderr.write(
        `\rreconciling: ${counts.provider_records ?? 0} provider records, ${counts.matched ?? 0} matched, ${found} findings`,
      );
    },
    end() {
      if (live && last > 0) process.stderr.write('\n');
    },
  };
}

const SUMMARY_COLUMNS = [
  'provider_records',
  'matched',
  'status_mismatch',
  'unknown_at_our_side',
  'missing_at_provider',
  'duplicate',
  'unresolved',
  'settled',
];

function printReport(g: Globals, report: RunReport): void {
  if (g.json) {
    printJson(report);
    return;
  }
  const { run } = report;
  console.log(
    `Run ${run.id} (${run.kind}, ${run.trigger}) ${run.status}: ${new Date(run.window_start * 1000).toISOString()} to ${new Date(run.window_end * 1000).toISOString()}, providers ${run.providers.join(', ')}`,
  );
  if (run.error) console.log(`Error: ${run.error}`);
  printTable([run.counts as unknown as Record<string, unknown>], SUMMARY_COLUMNS);
  if (report.findings.length === 0) return;
  console.log('');
  printTable(
    report.findings.map((f: FindingObject) => ({ ...f, detail: (f.detail as { reason?: string }).reason })),
    [
      'id',
      'kind',
      'resolution',
      'provider',
      'provider_payment_id',
      'payment_intent',
      'amount',
      'currency',
      'our_status',
      'provider_status',
      'detail',
    ],
  );
  if (report.has_more)
    console.log(`(more findings: payctl reconcile report ${run.id} --json --after <last id>)`);
}

async function followRemote(g: Globals, run: RunObject): Promise<RunReport> {
  const client = remoteClient(g);
  const progress = progressLine(g);
  let report = await client.request<RunReport>(
    'GET',
    `/admin/reconciliation/runs/${run.id}?limit=${REPORT_PAGE}`,
  );
  while (report.run.status === 'running') {
    progress.show(report.run.counts);
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_EVERY_MS));
    report = await client.request<RunReport>(
      'GET',
      `/admin/reconciliation/runs/${run.id}?limit=${REPORT_PAGE}`,
    );
  }
  progress.end();
  return report;
}

export function registerReconcileCommands(program: Command, globals: () => Globals): void {
  const reconcile = program
    .command('reconcile')
    .description('Compare the providers’ records with ours (runbooks 003 and 004)');
  reconcile
    .command('run')
    .description(
      'Reconcile the providers’ payments of a window with ours, settle what the provider finished, store the findings',
    )
    .option('--since <duration|date>', 'window start: 3600, 90m, 24h, 7d (at most 366d) or 2026-12-01', '24h')
    .option('--provider <name>', 'only stripe or paypal (default: every configured provider)')
    .option('--pending', 'run the scheduled pass now: payments pending for more than 10 minutes')
    .action(async (options: { since: string; provider?: string; pending?: boolean }) => {
      const g = globals();
      const since = parseOption(sinceSchema, options.since, '--since');
      const provider = options.provider
        ? parseOption(providerSchema, options.provider, '--provider')
        : undefined;
      let report: RunReport;
      if (g.url) {
        const client = remoteClient(g);
        const body = options.pending
          ? { kind: 'pending' }
          : { since: options.since, ...(provider ? { provider } : {}) };
        const run = await client.request<RunObject>('POST', '/admin/reconciliation/runs', body);
        report = await followRemote(g, run);
      } else {
        report = await inProcess(g.config, async ({ services }) => {
          const by = { actor: cliActor(), trigger: 'cli' as const };
          if (options.pending) {
            const run = await services.reconciliation.runPending(by);
            return services.reconciliation.report(run.id, REPORT_PAGE);
          }
          const progress = progressLine(g);
          const { done } = await services.reconciliation.start({ since, provider }, by, (counts) =>
            progress.show(counts),
          );
          const run = await done;
          progress.end();
          return services.reconciliation.report(run.id, REPORT_PAGE);
        });
      }
      printReport(g, report);
      if (report.run.status === 'failed') process.exitCode = 1;
    });
  reconcile
    .command('report')
    .argument('[run]', 'a run id (rcn_...); default: the latest run')
    .option('--after <finding>', 'findings after this one (the next page)')
    .description('Show a stored reconciliation run and its findings')
    .action(async (runId: string | undefined, options: { after?: string }) => {
      const g = globals();
      const report = g.url
        ? await remoteClient(g).request<RunReport>(
            'GET',
            `/admin/reconciliation/runs/${encodeURIComponent(runId ?? 'latest')}?limit=${REPORT_PAGE}${options.after ? `&starting_after=${encodeURIComponent(options.after)}` : ''}`,
          )
        : await inProcess(g.config, ({ services }) =>
            services.reconciliation.report(runId, REPORT_PAGE, options.after),
          );
      printReport(g, report);
    });
}
