// POST /admin/refunds: an operator refunds a payment by its id (`payment:refund`, which admins and
// operators hold), audited with the operator; `payctl refund` calls it over --url.
import { originOf, type Router } from '../../http/route.js';
import { type OperatorRefunds, operatorRefundFields } from './operator-refunds.service.js';

export function registerOperatorRefundRoutes(router: Router, refunds: OperatorRefunds): void {
  router.operator({
    method: 'POST',
    url: '/admin/refunds',
    summary: "Refund a payment on its merchant's behalf, fully or partly; audited as the operator's action",
    tags: ['Refunds'],
    permission: 'payment:refund',
    idempotent: true,
    input: operatorRefundFields,
    handler: ({ input, operator, info }) =>
      refunds.refund(input, { type: 'operator', id: operator.operatorId }, originOf(info)),
  });
}
