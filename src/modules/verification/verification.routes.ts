// GET /admin/verify: the ledger, the audit chain and the vault checked in one call (`payctl verify --url`).
import type { Router } from '../../http/route.js';
import { type VerificationDeps, verifyIntegrity } from './verification.js';

export function registerVerificationRoutes(router: Router, deps: VerificationDeps): void {
  router.operator({
    method: 'GET',
    url: '/admin/verify',
    summary: 'Verify the ledger, the audit hash chain and the vault; ok only if all three pass',
    tags: ['Audit'],
    // Reads the audit chain; every role that has it also has payment:read (ledger and vault checks).
    permission: 'audit:read',
    handler: async ({ operator, info }) => {
      const report = await verifyIntegrity(deps);
      await deps.audit.record({
        actor: { type: 'operator', id: operator.operatorId },
        action: 'integrity.verify',
        outcome: report.ok ? 'success' : 'failure',
        origin: info,
        newValue: Object.fromEntries(report.checks.map((c) => [c.name, c.ok])),
      });
      return report;
    },
  });
}
