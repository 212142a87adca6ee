// An operator captures an authorized payment on its merchant's behalf (the dashboard's capture button,
// POST /admin/payment_intents/:id/capture): found by id alone, captured through PaymentFlows.capture,
// the merchant API's own path (amount rules, provider call outside a transaction, settlement, events),
// and audited as the operator's action, refusals included.
import type { AuditActor, AuditOrigin } from '../audit/audit.js';
import type { AuditService } from '../audit/audit.service.js';
import { auditedAction } from '../audit/audited-action.js';
import type { OperatorPaymentsService } from './operator-payments.service.js';
import type { PaymentFlows } from './payment-flows.js';
import { captureFields, toPaymentIntentObject } from './payment-intents.js';

/** The merchant's capture parameters an operator may set: the amount only (metadata stays the merchant's). */
export const operatorCaptureFields = { amount_to_capture: captureFields.amount_to_capture };

export class OperatorCapture {
  constructor(
    private readonly deps: { flows: PaymentFlows; payments: OperatorPaymentsService; audit: AuditService },
  ) {}

  async capture(
    id: string,
    input: { amount_to_capture?: number | undefined },
    actor: AuditActor,
    origin: AuditOrigin,
  ) {
    const scope = await this.deps.payments.scopeOf(id, 'id');
    return auditedAction(this.deps.audit, {
      actor,
      origin,
      action: 'payment_intent.capture',
      resourceType: 'payment_intent',
      resourceId: id,
      requested: {
        merchant: scope.merchantId,
        livemode: scope.livemode,
        amount_to_capture: input.amount_to_capture ?? null,
      },
      run: async () => {
        const row = await this.deps.flows.capture(
          scope,
          id,
          { amount_to_capture: input.amount_to_capture },
          { request: { id: origin.requestId } },
        );
        const { client_secret: _secret, ...payment } = toPaymentIntentObject(row);
        return payment;
      },
      outcome: (payment) => ({ status: payment.status, amount_received: payment.amount_received }),
    });
  }
}
