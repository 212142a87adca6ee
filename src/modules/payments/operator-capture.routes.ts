// POST /admin/payment_intents/:id/capture: an operator captures an authorized payment
// (`payment:write`, admins), audited as the operator's action.
import { text } from '../../http/params.js';
import { originOf, type Router } from '../../http/route.js';
import { type OperatorCapture, operatorCaptureFields } from './operator-capture.service.js';

export function registerOperatorCaptureRoute(router: Router, capture: OperatorCapture): void {
  router.operator({
    method: 'POST',
    url: '/admin/payment_intents/:id/capture',
    summary:
      "Capture an authorized payment on its merchant's behalf (partially with amount_to_capture); audited as the operator's action",
    tags: ['Payments (admin)'],
    permission: 'payment:write',
    params: { id: text(255) },
    input: operatorCaptureFields,
    handler: ({ params, input, operator, info }) =>
      capture.capture(params.id, input, { type: 'operator', id: operator.operatorId }, originOf(info)),
  });
}
