// Operator API for merchants: create one (name, and the IANA time zone its daily reports cut days in) (with a test secret and publishable key, shown once) and read it.
import { text, timeZone } from '../../http/params.js';
import { originOf, type Router } from '../../http/route.js';
import type { AuditService } from '../audit/audit.service.js';
import type { MerchantsService } from './merchants.service.js';

export function registerMerchantRoutes(
  router: Router,
  merchants: MerchantsService,
  audit: AuditService,
): void {
  const tags = ['Merchants'];
  router.operator({
    method: 'POST',
    url: '/admin/merchants',
    summary: 'Create a merchant with a test-mode secret and publishable key',
    tags,
    permission: 'payment:configure',
    input: { name: text(200).min(1), timezone: timeZone().optional() },
    handler: async ({ input, operator, info }) => {
      const created = await merchants.createWithKeys(input.name, input.timezone);
      await audit.record({
        actor: { type: 'operator', id: operator.operatorId },
        action: 'merchant.create',
        resourceType: 'merchant',
        resourceId: created.merchant.id,
        outcome: 'success',
        origin: originOf(info),
        newValue: { name: created.merchant.name, timezone: created.merchant.timezone },
      });
      return {
        ...(await merchants.retrieve(created.merchant.id, 'id')),
        secret_key: created.secret.secret,
        publishable_key: created.publishable.secret,
      };
    },
  });
  router.operator({
    method: 'GET',
    url: '/admin/merchants/:id',
    summary: 'Retrieve a merchant',
    tags,
    permission: 'payment:read',
    params: { id: text(64) },
    handler: ({ params }) => merchants.retrieve(params.id, 'id'),
  });
}
