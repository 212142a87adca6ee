// Runbook 003's PrivacyController, served as written: POST /api/v1/privacy/data-export/:customerId and
// DELETE /api/v1/privacy/data-erasure/:customerId. Operator routes (a compliance officer acts across
// merchants): export needs `privacy:export` (admins and operators), erasure `privacy:erase` (admins).
// Merchant keys cannot call them; a merchant deletes its own customer with DELETE /v1/customers/:id.
import { originOf, type Router } from '../../http/route.js';
import { customerIdParam, exportFields } from './privacy.js';
import type { PrivacyService } from './privacy.service.js';

export function registerPrivacyRoutes(router: Router, privacy: PrivacyService): void {
  const tags = ['Privacy'];
  router.operator({
    method: 'POST',
    url: '/api/v1/privacy/data-export/:customerId',
    summary: 'Export everything held about a customer (GDPR access request); each list capped at `limit`',
    tags,
    permission: 'privacy:export',
    params: customerIdParam,
    input: exportFields,
    handler: ({ params, input, operator, info }) =>
      privacy.export(params.customerId, input, {
        actor: { type: 'operator', id: operator.operatorId },
        origin: originOf(info),
      }),
  });
  router.operator({
    method: 'DELETE',
    url: '/api/v1/privacy/data-erasure/:customerId',
    summary: "Erase a customer's personal data, keeping financial records and the audit trail (204)",
    tags,
    permission: 'privacy:erase',
    params: customerIdParam,
    status: 204,
    handler: async ({ params, operator, info, reply }) => {
      await privacy.erase(params.customerId, {
        actor: { type: 'operator', id: operator.operatorId },
        origin: originOf(info),
      });
      reply.code(204);
    },
  });
}
