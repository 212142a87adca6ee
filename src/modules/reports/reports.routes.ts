// HTTP surface of reports for operators (`payment:read`, so a viewer can read them): JSON by default,
// CSV with a header row as text/csv on `format=csv`.
import type { FastifyReply } from 'fastify';
import { text } from '../../http/params.js';
import type { Router } from '../../http/route.js';
import { DAILY_COLUMNS, formatSchema, localDate, type ReportFormat, toCsv } from './reports.js';
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
}
