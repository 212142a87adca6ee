// Operator API for the audit chain (what `payctl audit verify|publish-head --url` calls).
import type { Router } from '../../http/route.js';
import type { AuditService } from './audit.service.js';

export function registerAuditRoutes(router: Router, audit: AuditService): void {
  const tags = ['Audit'];
  router.operator({
    method: 'GET',
    url: '/admin/audit/verify',
    summary: 'Check the audit hash chain row by row and against every published head',
    tags,
    permission: 'audit:read',
    handler: async ({ operator, info }) => {
      const report = await audit.verify();
      await audit.record({
        actor: { type: 'operator', id: operator.operatorId },
        action: 'audit.verify',
        outcome: report.ok ? 'success' : 'failure',
        origin: info,
        newValue: { ok: report.ok, rows: report.rows, problems: report.problem_count },
      });
      return report;
    },
  });
  router.operator({
    method: 'POST',
    url: '/admin/audit/head/publish',
    summary: 'Publish the audit chain head now (file, log line, metric); the hourly job does it too',
    tags,
    permission: 'audit:read',
    handler: async () => ({ object: 'audit_chain_head', ...(await audit.publishHead()) }),
  });
}
