// Owns applying what the provider says about a refund to the refund, its charge's reservation, the
// ledger and the events, in one transaction (invariant 4). Every path that learns an outcome comes here:
// the synchronous request, the recovery job and inbound webhooks. Locks are taken charge first, then
// refund, like the reservation itself, and the refund's recorded status decides what is news:
//   started -> pending | succeeded | failed       (first outcome: refund.created)
//   pending -> succeeded | failed; succeeded -> failed (the provider failed it later); failed is final.
// Ledger keys derive from (attempt, refund), so the request and a webhook post once between them.
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import type { Scope } from '../../http/expand.js';
import type { Logger } from '../../observability/logger.js';
import type { EventsService } from '../events/events.service.js';
import {
  postingKey,
  refundFailed,
  refund as refundPosting,
  walletRefund,
} from '../ledger/ledger.postings.js';
import type { LedgerService } from '../ledger/ledger.service.js';
import { toChargeObject } from '../payments/charges.js';
import { refundsOfCharges } from '../payments/payments.repository.js';
import type { ChargeRow, RefundRow } from '../payments/payments.table.js';
import type { RequestRef } from '../payments/settlement.js';
import { toRefundObject } from './refund-object.js';
import {
  addRefunded,
  deleteRefund,
  findRefundById,
  lockChargeById,
  lockRefundById,
  updateRefund,
} from './refunds.repository.js';

/** What the provider says about a refund, from its answer or a webhook. */
export type RefundObservation =
  | { status: 'succeeded' | 'pending'; providerRefundId?: string | undefined }
  | { status: 'failed'; providerRefundId?: string | undefined; reason: string };

export interface RefundSettlementDeps {
  db: Kysely<Database>;
  clock: Clock;
  ledger: LedgerService;
  events: EventsService;
  logger: Logger;
}

/** Stripe's refund failure_reason values; anything else a provider says is `unknown`. */
const FAILURE_REASONS = new Set([
  'charge_for_pending_refund_disputed',
  'declined',
  'expired_or_canceled_card',
  'insufficient_funds',
  'lost_or_stolen_card',
  'merchant_request',
  'unknown',
]);

export function failureReason(code: string): string {
  if (FAILURE_REASONS.has(code)) return code;
  return code === 'charge_disputed' ? 'charge_for_pending_refund_disputed' : 'unknown';
}

type Trx = Transaction<Database>;

export class RefundSettlement {
  constructor(private readonly deps: RefundSettlementDeps) {}

  /** Applies an observation; returns the refund as recorded, or undefined if there is no such refund. */
  async apply(
    refundId: string,
    observed: RefundObservation,
    request?: RequestRef,
  ): Promise<RefundRow | undefined> {
    return this.locked(refundId, async (trx, charge, refund) => {
      if (refund.status === 'failed' || refund.status === 'canceled') return refund;
      const change = new RefundChange(this.deps, trx, charge, refund, request);
      return observed.status === 'failed' ? change.failed(observed) : change.accepted(observed);
    });
  }

  /**
   * Undoes a reservation the provider proved it never acted on (the request's own first sending was
   * refused or never arrived): the amount is released and the refund row goes, so nothing changed.
   */
  async discard(refundId: string): Promise<void> {
    await this.locked(refundId, async (trx, charge, refund) => {
      if (refund.phase !== 'started' || refund.provider_refund_id) {
        throw new Error(`refund ${refund.id} reached the provider; it cannot be discarded`);
      }
      await addRefunded(trx, charge.id, -refund.amount);
      await deleteRefund(trx, refund.id);
      return refund;
    });
  }

  /** Outcome still unknown: when to ask again (null: no more asking; a webhook or reconciliation decides). */
  async recheck(refundId: string, at: Date | null): Promise<RefundRow | undefined> {
    return this.locked(refundId, async (trx, _charge, refund) => {
      if (refund.phase !== 'started') return refund;
      return updateRefund(trx, refund.id, { next_check_at: at });
    });
  }

  private async locked(
    refundId: string,
    run: (trx: Trx, charge: ChargeRow, refund: RefundRow) => Promise<RefundRow>,
  ): Promise<RefundRow | undefined> {
    // The charge id never changes, so it is read before taking the locks in their fixed order.
    const unlocked = await findRefundById(this.deps.db, refundId);
    if (!unlocked) return undefined;
    return this.deps.db.transaction().execute(async (trx) => {
      const charge = await lockChargeById(trx, unlocked.charge_id);
      const refund = await lockRefundById(trx, refundId);
      if (!charge || !refund) return undefined;
      return run(trx, charge, refund);
    });
  }
}

/** One change to one refund, inside the transaction holding its charge and refund locks. */
class RefundChange {
  private readonly scope: Scope;

  constructor(
    private readonly deps: RefundSettlementDeps,
    private readonly trx: Trx,
    private charge: ChargeRow,
    private readonly refund: RefundRow,
    private readonly request: RequestRef | undefined,
  ) {
    this.scope = { merchantId: refund.merchant_id, livemode: refund.livemode };
  }

  /** The first outcome the provider gave (the merchant's first event about this refund is created). */
  private get first(): boolean {
    return this.refund.phase === 'started';
  }

  private posting() {
    const { refund, charge } = this;
    return {
      livemode: refund.livemode,
      merchantId: refund.merchant_id,
      currency: refund.currency,
      provider: charge.provider,
      amount: refund.amount,
      source: { type: 'refund', id: refund.id },
      description: `Refund of ${charge.id}`,
    };
  }

  /** Succeeded or pending at the provider: the refund is posted (once) and counts against the charge. */
  async accepted(observed: Extract<RefundObservation, { status: 'succeeded' | 'pending' }>) {
    const { refund } = this;
    let balanceTransaction = refund.balance_transaction_id;
    if (!balanceTransaction) {
      const key = postingKey(refund.attempt_id, `refund:${refund.id}`);
      const { charge } = this;
      // A wallet payment is refunded into the customer's wallet, not through a provider's clearing.
      const posted = await this.deps.ledger.post(
        this.trx,
        charge.provider === 'wallet' && charge.customer_id
          ? walletRefund({ key, ...this.posting(), customerId: charge.customer_id })
          : refundPosting({ key, ...this.posting() }),
      );
      balanceTransaction = posted.id;
    }
    // A late "pending" never takes a succeeded refund back.
    const status = refund.status === 'succeeded' ? 'succeeded' : observed.status;
    const providerRefundId = refund.provider_refund_id ?? observed.providerRefundId ?? null;
    if (!this.first && status === refund.status && providerRefundId === refund.provider_refund_id) {
      return refund;
    }
    const row = await updateRefund(this.trx, refund.id, {
      status,
      phase: 'settled',
      provider_refund_id: providerRefundId,
      balance_transaction_id: balanceTransaction,
      next_check_at: null,
    });
    if (this.first) {
      await this.record('refund.created', row);
      await this.recordCharge('charge.refunded');
    } else if (status !== refund.status) {
      await this.record('refund.updated', row, true);
      await this.record('charge.refund.updated', row, true);
    }
    return row;
  }

  /**
   * Failed at the provider (at once, or later after it succeeded): the reservation is released and, if
   * the refund had been posted, the posting is reversed (once: the refund is final from here on).
   */
  async failed(observed: Extract<RefundObservation, { status: 'failed' }>) {
    const { refund } = this;
    this.charge = await addRefunded(this.trx, this.charge.id, -refund.amount);
    let failureTransaction: string | null = null;
    if (refund.balance_transaction_id) {
      const posted = await this.deps.ledger.post(
        this.trx,
        refundFailed({
          key: postingKey(refund.attempt_id, `refund_failed:${refund.id}`),
          ...this.posting(),
          description: `Refund of ${this.charge.id} failed`,
        }),
      );
      failureTransaction = posted.id;
    }
    const row = await updateRefund(this.trx, refund.id, {
      status: 'failed',
      phase: 'settled',
      failure_reason: failureReason(observed.reason),
      provider_refund_id: refund.provider_refund_id ?? observed.providerRefundId ?? null,
      failure_balance_transaction_id: failureTransaction,
      next_check_at: null,
    });
    if (this.first) {
      await this.record('refund.created', row);
    } else {
      await this.record('refund.updated', row, true);
      await this.record('charge.refund.updated', row, true);
    }
    await this.record('refund.failed', row, !this.first);
    this.deps.logger.warn(
      { refund: refund.id, charge: this.charge.id, reason: row.failure_reason, posted: !!failureTransaction },
      'refund failed at the provider; its amount is refundable again',
    );
    return row;
  }

  private async record(type: string, row: RefundRow, withPrevious = false): Promise<void> {
    const object = toRefundObject(row);
    await this.deps.events.record(this.trx, this.scope, {
      type,
      object,
      ...(withPrevious ? { previousAttributes: changedFields(toRefundObject(this.refund), object) } : {}),
      request: this.request,
    });
  }

  private async recordCharge(type: string): Promise<void> {
    const refunds = await refundsOfCharges(this.trx, [this.charge.id]);
    const object = toChargeObject(this.charge, refunds.get(this.charge.id));
    await this.deps.events.record(this.trx, this.scope, { type, object, request: this.request });
  }
}

/** Stripe's previous_attributes: the fields whose values changed, as they were before. */
export function changedFields(before: object, after: object): Record<string, unknown> {
  const previous: Record<string, unknown> = {};
  const next = after as Record<string, unknown>;
  for (const [key, value] of Object.entries(before)) {
    if (JSON.stringify(value) !== JSON.stringify(next[key])) previous[key] = value;
  }
  return previous;
}
