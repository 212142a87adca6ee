// A refund an operator issues on a merchant's behalf (`payctl refund`, POST /admin/refunds): found by the
// payment intent alone, made through the same RefundsService as the merchant API (so every amount rule
// and invariant holds), and audited as the operator's action, refused attempts included.
import { z } from 'zod';
import { AppError } from '../../http/errors.js';
import { integer, text } from '../../http/params.js';
import type { AuditActor, AuditOrigin } from '../audit/audit.js';
import type { AuditService } from '../audit/audit.service.js';
import type { OperatorPaymentsService } from '../payments/operator-payments.service.js';
import type { RefundObject } from './refund-object.js';
import { REFUND_REASONS } from './refunds.js';
import type { RefundsService } from './refunds.service.js';

export const operatorRefundFields = {
  payment_intent: text(255),
  /** Defaults to what remains refundable. */
  amount: integer("a positive integer amount in the currency's minor unit")
    .refine((n) => n >= 1, { message: 'must be a positive integer of minor units' })
    .optional(),
  reason: z.enum(REFUND_REASONS, { message: `must be one of ${REFUND_REASONS.join(', ')}` }).optional(),
};

export type OperatorRefundInput = z.output<z.ZodObject<typeof operatorRefundFields>>;

export class OperatorRefunds {
  constructor(
    private readonly deps: {
      refunds: RefundsService;
      payments: OperatorPaymentsService;
      audit: AuditService;
    },
  ) {}

  async refund(input: OperatorRefundInput, actor: AuditActor, origin?: AuditOrigin): Promise<RefundObject> {
    const scope = await this.deps.payments.scopeOf(input.payment_intent, 'payment_intent');
    const requested = {
      merchant: scope.merchantId,
      livemode: scope.livemode,
      payment_intent: input.payment_intent,
      amount: input.amount ?? null,
      reason: input.reason ?? null,
    };
    try {
      const refund = await this.deps.refunds.create(scope, {
        payment_intent: input.payment_intent,
        amount: input.amount,
        reason: input.reason,
      });
      await this.deps.audit.record({
        actor,
        action: 'refund.create',
        resourceType: 'refund',
        resourceId: refund.id,
        outcome: 'success',
        origin,
        newValue: { ...requested, amount: refund.amount, status: refund.status },
      });
      return refund;
    } catch (error) {
      // A refusal is part of the trail too: who tried to refund what, and why it was refused.
      if (error instanceof AppError) {
        await this.deps.audit.record({
          actor,
          action: 'refund.create',
          resourceType: 'payment_intent',
          resourceId: input.payment_intent,
          outcome: 'failure',
          origin,
          newValue: { ...requested, error: error.code },
        });
      }
      throw error;
    }
  }
}
