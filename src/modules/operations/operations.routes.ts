// HTTP surface of the operations toolkit for a remote payctl (--url): the preflight checklist and the
// incident report. Backups are not here: they run on the database's host (payctl backup / restore).
import { boundedInteger, text } from '../../http/params.js';
import type { Router } from '../../http/route.js';
import { incidentFormat } from './incident.js';
import { incidentMarkdown } from './incident.markdown.js';
import { type IncidentService, MAX_TIMELINE_LIMIT } from './incident.service.js';
import type { PreflightService } from './preflight.service.js';

export function registerOperationsRoutes(
  router: Router,
  deps: { preflight: PreflightService; incidents: IncidentService },
): void {
  const tags = ['Operations'];
  router.operator({
    method: 'GET',
    url: '/admin/preflight',
    summary:
      "Runbook 002's pre-deployment checklist: key age, webhook secrets, TLS certificates, recent backups, point-in-time recovery, live keys in live mode; each ok, warn or fail",
    tags,
    permission: 'payment:read',
    input: {},
    handler: () => deps.preflight.run(),
  });
  router.operator({
    method: 'GET',
    url: '/admin/incidents/report',
    summary:
      'Incident timeline since a duration (6h) or date: audit log, notable events and alerts, oldest first; format=markdown gives a post-mortem draft',
    tags,
    permission: 'audit:read',
    input: {
      since: text(64),
      limit: boundedInteger(1, MAX_TIMELINE_LIMIT).optional(),
      format: incidentFormat.default('json'),
    },
    handler: async ({ input, reply }) => {
      const report = await deps.incidents.reportSince(input.since, input.limit ?? 500);
      if (input.format === 'json') return report;
      reply.type('text/markdown; charset=utf-8');
      return incidentMarkdown(report);
    },
  });
}
