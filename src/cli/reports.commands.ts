// payctl report daily|monthly|security (issue 8, runbook 003): the same reports as GET /admin/reports/*,
// in process through the reports service or over --url. A table for people; `--format csv` writes the
// CSV (header row, CRLF) to stdout as is, `--format json` (or --json) the report object.
import type { Command } from 'commander';
import { z } from 'zod';
import type { Service } from '../main.js';
import {
  DAILY_COLUMNS,
  type DailySummary,
  localDate,
  MONTHLY_COLUMNS,
  type MonthlyReport,
  monthSchema,
  SECURITY_COLUMNS,
  type SecurityReport,
  toCsv,
} from '../modules/reports/reports.js';
import { type Globals, inProcess, parseOption, remoteClient } from './context.js';
import { printJson, printTable } from './output.js';

const cliFormat = z.enum(['table', 'csv', 'json'], { message: 'must be table, csv or json' });
const FORMAT_HELP = 'table, csv or json';

async function fetchReport<R>(
  g: Globals,
  path: string,
  query: Record<string, string | undefined>,
  local: (reports: Service['services']['reports']) => Promise<R>,
): Promise<R> {
  if (!g.url) return inProcess(g.config, ({ services }) => local(services.reports));
  const search = new URLSearchParams(
    Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  return remoteClient(g).request<R>('GET', `${path}?${search}`);
}

function print<R extends object>(
  g: Globals,
  formatOption: string,
  report: { data: R[] },
  columns: readonly (keyof R & string)[],
  title: string,
): void {
  const format = g.json ? 'json' : parseOption(cliFormat, formatOption, '--format');
  if (format === 'json') printJson(report);
  else if (format === 'csv') process.stdout.write(toCsv(report.data, columns));
  else {
    console.log(title);
    printTable(report.data as unknown as Record<string, unknown>[], [...columns]);
  }
}

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
    .option('--format <format>', FORMAT_HELP, 'table')
    .action(async (options: { merchant: string; from: string; to: string; format: string }) => {
      const g = globals();
      const from = parseOption(localDate(), options.from, '--from');
      const to = parseOption(localDate(), options.to, '--to');
      const summary = await fetchReport<DailySummary>(
        g,
        '/admin/reports/daily',
        { merchant: options.merchant, from, to },
        (reports) => reports.daily(options.merchant, from, to),
      );
      const title = `Merchant ${summary.merchant}, local dates in ${summary.timezone}, ${from} to ${to}`;
      print(g, options.format, summary, DAILY_COLUMNS, title);
    });
  report
    .command('monthly')
    .description(
      'Compliance report per mode and currency: transactions, successful, failed, volume, refunds, disputes',
    )
    .requiredOption('--month <month>', 'YYYY-MM')
    .option('--merchant <id>', 'one merchant (its time zone cuts the month); all merchants in UTC without it')
    .option('--format <format>', FORMAT_HELP, 'table')
    .action(async (options: { month: string; merchant?: string; format: string }) => {
      const g = globals();
      const month = parseOption(monthSchema, options.month, '--month');
      const monthly = await fetchReport<MonthlyReport>(
        g,
        '/admin/reports/monthly',
        { month, merchant: options.merchant },
        (reports) => reports.monthly(month, options.merchant),
      );
      const who = monthly.merchant ? `Merchant ${monthly.merchant}` : 'All merchants';
      print(g, options.format, monthly, MONTHLY_COLUMNS, `${who}, ${month} in ${monthly.timezone}`);
    });
  report
    .command('security')
    .description('Security events summary from the audit log: per action and outcome, count, actors, origins')
    .requiredOption('--from <date>', 'first UTC date, YYYY-MM-DD')
    .requiredOption('--to <date>', 'last UTC date, YYYY-MM-DD (at most 92 days after --from)')
    .option('--format <format>', FORMAT_HELP, 'table')
    .action(async (options: { from: string; to: string; format: string }) => {
      const g = globals();
      const from = parseOption(localDate(), options.from, '--from');
      const to = parseOption(localDate(), options.to, '--to');
      const summary = await fetchReport<SecurityReport>(
        g,
        '/admin/reports/security',
        { from, to },
        (reports) => reports.security(from, to),
      );
      print(g, options.format, summary, SECURITY_COLUMNS, `Audit log, UTC dates ${from} to ${to}`);
    });
}
