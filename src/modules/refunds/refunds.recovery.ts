// Owns finishing refunds whose outcome is not recorded: the provider call timed out, or the process died
// between reserving a refund and hearing back. The same refund request is sent again with the same
// idempotency key, so the provider can only replay what it did (or do it once, if the first sending never
// arrived); that is done only inside the provider's key window (DESIGN section 5). Past it, the refund
// stays pending, reserved, until a provider webhook or reconciliation settles it.
import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { AppError } from '../../http/errors.js';
import type { IdempotencyHandle } from '../../http/idempotency.js';
import { INTERRUPTED_BODY } from '../../http/idempotency.js';
import type { Logger } from '../../observability/logger.js';
import type { RefundRow } from '../payments/payments.table.js';
import { PROVIDER_KEY_WINDOW_MS } from '../payments/recovery.js';
import { recheckAt } from '../payments/settlement.js';
import { toRefundObject } from './refund-object.js';
import type { RefundSettlement } from './refund-settlement.js';
import { dueRefunds, findRefund, updateRefund } from './refunds.repository.js';
import type { RefundRecoveryData, RefundsService } from './refunds.service.js';

export interface RefundRecoveryDeps {
  db: Kysely<Database>;
  clock: Clock;
  logger: Logger;
  refunds: RefundsService;
  settlement: RefundSettlement;
}

export class RefundRecovery {
  constructor(private readonly deps: RefundRecoveryDeps) {}

  /** One step towards settling a refund: send it again (same key) or, past the window, stop asking. */
  async recover(refund: RefundRow): Promise<RefundRow> {
    if (refund.phase !== 'started') return refund;
    const age = this.deps.clock.now().getTime() - refund.created_at.getTime();
    if (age >= PROVIDER_KEY_WINDOW_MS) {
      this.deps.logger.error(
        { refund: refund.id, charge: refund.charge_id },
        "refund outcome unknown past the provider's idempotency window; it stays pending until a webhook or reconciliation settles it",
      );
      return (await this.deps.settlement.recheck(refund.id, null)) ?? refund;
    }
    const outcome = await this.deps.refunds.send(refund);
    return this.deps.refunds.settle(refund, outcome, 'again');
  }

  /** The job's pass: every refund whose check is due, each on its own. */
  async runDue(limit = 50): Promise<{ checked: number; settled: number }> {
    const now = this.deps.clock.now();
    const due = await dueRefunds(this.deps.db, now, limit);
    let settled = 0;
    for (const refund of due) {
      try {
        if ((await this.recover(refund)).phase === 'settled') settled++;
      } catch (error) {
        this.deps.logger.warn({ err: error, refund: refund.id }, 'refund could not be settled yet');
        await updateRefund(this.deps.db, refund.id, {
          next_check_at: recheckAt(now, refund.created_at),
        }).catch(() => {});
      }
    }
    return { checked: due.length, settled };
  }

  /**
   * The idempotency completer for POST /v1/refunds: finish the reserved refund, then store what the
   * request would have answered. Throws while the outcome is unknown, so the key waits for the next run.
   */
  async complete(handle: IdempotencyHandle): Promise<{ status: number; body: unknown }> {
    const data = handle.recoveryData as RefundRecoveryData | null;
    if (!data?.refundId) return { status: 500, body: INTERRUPTED_BODY };
    const refund = await findRefund(this.deps.db, handle.scope, data.refundId);
    if (!refund) return { status: 500, body: INTERRUPTED_BODY };
    try {
      const settled = await this.recover(refund);
      if (settled.phase !== 'settled') throw new Error(`refund ${refund.id} is not settled yet`);
      return { status: 200, body: toRefundObject(settled) };
    } catch (error) {
      if (error instanceof AppError) return { status: error.status, body: error.toBody() };
      throw error;
    }
  }
}
