// An operator action taken through another module's service (a capture, a review approval, dispute
// evidence), audited as the operator's: a success with what it changed, a refusal (an AppError) with
// its code, as POST /admin/refunds records them. The action's own transaction has committed by then,
// so the audit row follows it rather than joining it.
import { AppError } from '../../http/errors.js';
import type { AuditActor, AuditOrigin } from './audit.js';
import type { AuditService } from './audit.service.js';

export interface AuditedAction<T> {
  actor: AuditActor;
  origin?: AuditOrigin | undefined;
  /** e.g. `payment_intent.capture`. */
  action: string;
  resourceType: string;
  resourceId: string;
  /** What the operator asked for (ids and amounts: the audit strips personal data anyway). */
  requested: Record<string, unknown>;
  run: () => Promise<T>;
  /** What the success changed, added to `requested` in the audit row. */
  outcome: (result: T) => Record<string, unknown>;
}

export async function auditedAction<T>(audit: AuditService, action: AuditedAction<T>): Promise<T> {
  const entry = {
    actor: action.actor,
    action: action.action,
    resourceType: action.resourceType,
    resourceId: action.resourceId,
    origin: action.origin,
  };
  try {
    const result = await action.run();
    await audit.record({
      ...entry,
      outcome: 'success',
      newValue: { ...action.requested, ...action.outcome(result) },
    });
    return result;
  } catch (error) {
    if (error instanceof AppError) {
      await audit.record({
        ...entry,
        outcome: 'failure',
        newValue: { ...action.requested, error: error.code },
      });
    }
    throw error;
  }
}
