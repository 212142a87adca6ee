// Operator API for the vault (what `payctl vault ... --url` calls): rotate and verify, both audited.
import { boundedInteger } from '../../http/params.js';
import type { Router } from '../../http/route.js';
import type { AuditService } from '../audit/audit.service.js';
import type { VaultService } from './vault.service.js';

export function registerVaultRoutes(router: Router, vault: VaultService, audit: AuditService): void {
  const tags = ['Vault'];
  router.operator({
    method: 'POST',
    url: '/admin/vault/rotate',
    summary: 'Re-wrap every vault data key under the current key-encryption key (resumable)',
    tags,
    permission: 'payment:configure',
    input: { batch_size: boundedInteger(1, 10_000).optional() },
    handler: async ({ input, operator, info }) => {
      const report = await vault.rotate({ batchSize: input.batch_size });
      await audit.record({
        actor: { type: 'operator', id: operator.operatorId },
        action: 'vault.rotate',
        outcome: report.ok ? 'success' : 'failure',
        origin: info,
        newValue: { current_kek: report.current_kek, cards: report.cards, cvcs: report.cvcs },
      });
      return report;
    },
  });
  router.operator({
    method: 'GET',
    url: '/admin/vault/verify',
    summary: 'Decrypt every vault entry and check it against its payment method',
    tags,
    permission: 'payment:read',
    handler: async ({ operator, info }) => {
      const report = await vault.verify();
      await audit.record({
        actor: { type: 'operator', id: operator.operatorId },
        action: 'vault.verify',
        outcome: report.ok ? 'success' : 'failure',
        origin: info,
        newValue: { ok: report.ok, cards: report.cards, cvcs: report.cvcs },
      });
      return report;
    },
  });
}
