// payctl preflight (runbook 002's pre-deployment checklist) and payctl incident report (a timeline for the
// incident log and the post-mortem), through the operations services in process or over --url.
import type { Command } from 'commander';
import type { IncidentReport } from '../modules/operations/incident.js';
import { incidentFormat } from '../modules/operations/incident.js';
import { incidentMarkdown } from '../modules/operations/incident.markdown.js';
import { MAX_TIMELINE_LIMIT } from '../modules/operations/incident.service.js';
import type { PreflightReport } from '../modules/operations/preflight.service.js';
import { type Globals, inProcess, parseOption, remoteClient, UsageError } from './context.js';
import { printJson, printTable } from './output.js';

function printPreflight(g: Globals, report: PreflightReport): void {
  if (g.json) {
    printJson(report);
    return;
  }
  console.log(`Preflight (APP_ENV=${report.environment}, ${report.livemode ? 'live' : 'test'} mode)`);
  printTable(
    report.checks.map((check) => ({ ...check, status: check.status.toUpperCase() })),
    ['name', 'status', 'detail'],
  );
  console.log(report.ok ? 'preflight passed' : 'preflight FAILED');
}

function printIncident(g: Globals, format: 'table' | 'json' | 'markdown', report: IncidentReport): void {
  if (g.json || format === 'json') printJson(report);
  else if (format === 'markdown') process.stdout.write(incidentMarkdown(report));
  else {
    const from = new Date(report.since * 1000).toISOString();
    const to = new Date(report.until * 1000).toISOString();
    const s = report.summary;
    console.log(`Incident timeline ${from} to ${to}`);
    console.log(
      `payments failed ${s.payments_failed}, succeeded ${s.payments_succeeded}; disputes opened ${s.disputes_opened}; alerts ${s.alerts}; audit entries ${s.audit_entries}`,
    );
    printTable(report.timeline as unknown as Record<string, unknown>[], [
      'time',
      'source',
      'what',
      'subject',
      'actor',
      'detail',
    ]);
    if (report.truncated) console.log('(truncated: narrow the window with --since or raise --limit)');
  }
}

export function registerOperationsCommands(program: Command, globals: () => Globals): void {
  program
    .command('preflight')
    .description(
      "Runbook 002's pre-deployment checklist: key age <= 30 days, webhook secrets, TLS certificate days left, recent backups, point-in-time recovery, live keys in live mode; exit 1 on a failed check",
    )
    .action(async () => {
      const g = globals();
      const report = g.url
        ? await remoteClient(g).request<PreflightReport>('GET', '/admin/preflight')
        : await inProcess(g.config, ({ services }) => services.preflight.run());
      printPreflight(g, report);
      if (!report.ok) process.exitCode = 1;
    });
  const incident = program.command('incident').description('Incident response (runbooks 001, 003, 004)');
  incident
    .command('report')
    .description(
      'Timeline of the audit log, notable events and alerts since a duration or date, oldest first',
    )
    .requiredOption(
      '--since <duration|date>',
      'how far back: 30m, 6h, 2d (at most 31d) or 2024-01-01[T14:30:00Z]',
    )
    .option('--limit <n>', `rows per source, at most ${MAX_TIMELINE_LIMIT}`, '500')
    .option('--format <format>', 'table, json or markdown (a post-mortem draft)', 'table')
    .action(async (options: { since: string; limit: string; format: string }) => {
      const g = globals();
      const format =
        options.format === 'table' ? 'table' : parseOption(incidentFormat, options.format, '--format');
      const limit = Number(options.limit);
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_TIMELINE_LIMIT) {
        throw new UsageError(
          `--limit: must be an integer from 1 to ${MAX_TIMELINE_LIMIT} (got ${options.limit})`,
        );
      }
      const report = g.url
        ? await remoteClient(g).request<IncidentReport>(
            'GET',
            `/admin/incidents/report?${new URLSearchParams({ since: options.since, limit: String(limit) })}`,
          )
        : await inProcess(g.config, ({ services }) => services.incidents.reportSince(options.since, limit));
      printIncident(g, format, report);
    });
}
