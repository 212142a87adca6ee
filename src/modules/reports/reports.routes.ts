// HTTP surface of reports for operators: the daily and monthly reports need `payment:read`, the security
// summary `audit:read` (it is read from the audit log, as GET /admin/audit is); a viewer has both. JSON by
// default, CSV with a header row as text/csv on `format=csv`.
import type { FastifyReply } from 'fastify';
import { text } from '../../http/params.js';
import type { Router } from '../../http/route.js';
import {
  DAILY_COLUMNS,
  formatSchema,
  localDate,
  MONTHLY_COLUMNS,
  monthSchema,
  type ReportFormat,
  SECURITY_COLUMNS,
  toCsv,
} from './reports.js';
import type { ReportsService } from './reports.service.js';

function render<R extends object>(
  reply: FastifyReply,
  format: ReportFormat,
  report: { data: R[] },
  columns: readonly (keyof R & string)[],
): unknown {
  if (format === 'json') return report;
  reply.type('text/csv; charset=utf-8');
  return toCsv(report.data, columns);
}

export function registerReportRoutes(router: Router, reports: ReportsService): void {
  const tags = ['Reports'];
  router.operator({
    method: 'GET',
    url: '/admin/reports/daily',
    summary:
      "Daily summary of one merchant: per local date (the merchant's time zone), mode, gateway and currency, the count, volume and average of succeeded payments and the refunds; at most 92 days",
    tags,
    permission: 'payment:read',
    input: {
      merchant: text(64),
      from: localDate(),
      to: localDate(),
      format: formatSchema.default('json'),
    },
    handler: async ({ input, reply }) =>
      render(reply, input.format, await reports.daily(input.merchant, input.from, input.to), DAILY_COLUMNS),
  });
  router.operator({
    method: 'GET',
    url: '/admin/reports/monthly',
    summary:
      "Runbook 003's monthly compliance report: per mode and currency, transactions, successful, failed, volume, average, refunds and disputes; all merchants (UTC month) or one (its time zone)",
    tags,
    permission: 'payment:read',
    input: { month: monthSchema, merchant: text(64).optional(), format: formatSchema.default('json') },
    handler: async ({ input, reply }) =>
      render(reply, input.format, await reports.monthly(input.month, input.merchant), MONTHLY_COLUMNS),
  });
  router.operator({
    method: 'GET',
    url: '/admin/reports/security',
    summary:
      "Runbook 003's security events summary: audit log entries per action and outcome (count, distinct actors and origins) over UTC dates from..to, at most 92 days",
    tags,
    permission: 'audit:read',
    input: { from: localDate(), to: localDate(), format: formatSchema.default('json') },
    handler: async ({ input, reply }) =>
      render(reply, input.format, await reports.security(input.from, input.to), SECURITY_COLUMNS),
  });
}
