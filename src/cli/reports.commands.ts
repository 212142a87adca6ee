// payctl report daily (issue 8, runbook 003): the same report as GET /admin/reports/daily, in process
// through the reports service or over --url. A table for people; `--format csv` writes the CSV (header
// row, CRLF) to stdout as is, `--format json` (or --json) the report object.
import type { Command } from 'commander';
import { z } from 'zod';
import { DAILY_COLUMNS, type DailySummary, localDate, toCsv } from '../modules/reports/reports.js';
import { type Globals, inProcess, parseOption, remoteClient } from './context.js';
import { printJson, printTable } from './output.js';

const cliFormat = z.enum(['table', 'csv', 'json'], { message: 'must be table, csv or json' });

export function registerReportCommands(program: Command, globals: () => Globals): void {
  const report = program.command('report').description('Runbook 003 reports');
  report
    .command('daily')
    .description(
      "Per local date (the merchant's time zone), mode, gateway and currency: count, volume, average, refunds",
    )
    .requiredOption('--merchant <id>', 'the merchant (acct_...)')
    .requiredOption('--from <date>', 'first local date, YYYY-MM-DD')
    .requiredOption('--to <date>', 'last local date, YYYY-MM-DD (at most 92 days after --from)')
    .option('--format <format>', 'table, csv or json', 'table')
    .action(async (options: { merchant: string; from: string; to: string; format: string }) => {
      const g = globals();
      const from = parseOption(localDate(), options.from, '--from');
      const to = parseOption(localDate(), options.to, '--to');
      const format = g.json ? 'json' : parseOption(cliFormat, options.format, '--format');
      const query = new URLSearchParams({ merchant: options.merchant, from, to });
      const summary = g.url
        ? await remoteClient(g).request<DailySummary>('GET', `/admin/reports/daily?${query}`)
        : await inProcess(g.config, ({ services }) => services.reports.daily(options.merchant, from, to));
      if (format === 'json') printJson(summary);
      else if (format === 'csv') process.stdout.write(toCsv(summary.data, DAILY_COLUMNS));
      else {
        console.log(`Merchant ${summary.merchant}, local dates in ${summary.timezone}, ${from} to ${to}`);
        printTable(summary.data as unknown as Record<string, unknown>[], [...DAILY_COLUMNS]);
      }
    });
}
