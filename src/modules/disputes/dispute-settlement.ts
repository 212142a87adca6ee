// Owns applying what the provider says about a dispute to our dispute row, its charge, the ledger and
// the events, in one transaction under the charge's lock (the lock refunds take, so a refund and a
// dispute on one charge never interleave). Provider webhooks arrive in any order and more than once, so
// the dispute row's recorded state decides what is news:
//   - first sight: the row is created and `charge.dispute.created` recorded; the charge is `disputed`;
//   - funds withdrawn (any chargeback status, not an inquiry): `dispute` posted once;
//   - won: `dispute_reversal` posted; lost: `dispute_loss` posted and the charge's amount lost grows;
//     either records `charge.dispute.closed`, once; a closed dispute never reopens.
// Ledger keys derive from (attempt, dispute), never from a webhook id (DESIGN section 8).
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import type { Scope } from '../../http/expand.js';
import { newId } from '../../ids.js';
import type { Logger } from '../../observability/logger.js';
import type { EventsService } from '../events/events.service.js';
import { disputeLost, disputeOpened, disputeWon, postingKey } from '../ledger/ledger.postings.js';
import type { LedgerService } from '../ledger/ledger.service.js';
import type { ChargeRow } from '../payments/payments.table.js';
import { toDisputeObject } from './dispute-object.js';
import {
  addLost,
  findDisputeByProviderId,
  insertDispute,
  lockChargeById,
  updateCharge,
  updateDispute,
} from './disputes.repository.js';
import type { DisputeRow, DisputeStatus } from './disputes.table.js';

/** A provider's dispute, as its webhook describes it. */
export interface ObservedDispute {
  providerDisputeId: string;
  amount: number;
  currency: string;
  status: DisputeStatus;
  reason: string | null;
  /** The dispute fee taken with the withdrawal (0 if none reported). */
  fee: number;
}

export interface DisputeSettlementDeps {
  db: Kysely<Database>;
  clock: Clock;
  ledger: LedgerService;
  events: EventsService;
  logger: Logger;
}

const CLOSED: ReadonlySet<DisputeStatus> = new Set(['won', 'lost', 'warning_closed']);
/** Inquiries (warning_*) withdraw nothing; every other status means the funds were taken. */
const isInquiry = (status: DisputeStatus) => status.startsWith('warning_');

type Trx = Transaction<Database>;

export class DisputeSettlement {
  constructor(private readonly deps: DisputeSettlementDeps) {}

  async apply(
    chargeId: string,
    provider: string,
    observed: ObservedDispute,
  ): Promise<DisputeRow | undefined> {
    return this.deps.db.transaction().execute(async (trx) => {
      const charge = await lockChargeById(trx, chargeId);
      if (!charge) return undefined;
      const change = new DisputeChange(this.deps, trx, charge);
      return change.run(provider, observed);
    });
  }
}

class DisputeChange {
  private readonly scope: Scope;

  constructor(
    private readonly deps: DisputeSettlementDeps,
    private readonly trx: Trx,
    private charge: ChargeRow,
  ) {
    this.scope = { merchantId: charge.merchant_id, livemode: charge.livemode };
  }

  async run(provider: string, observed: ObservedDispute): Promise<DisputeRow> {
    let dispute = await findDisputeByProviderId(this.trx, provider, observed.providerDisputeId);
    if (!dispute) dispute = await this.open(provider, observed);
    if (CLOSED.has(dispute.status)) return dispute;
    if (!isInquiry(observed.status) && !dispute.balance_transaction_id) {
      dispute = await this.withdraw(dispute, observed.fee);
    }
    if (CLOSED.has(observed.status)) return this.close(dispute, observed.status);
    if (observed.status !== dispute.status) {
      dispute = await updateDispute(this.trx, dispute.id, { status: observed.status });
      await updateCharge(this.trx, this.charge.id, { dispute_status: observed.status });
    }
    return dispute;
  }

  private get common() {
    return {
      livemode: this.charge.livemode,
      merchantId: this.charge.merchant_id,
    };
  }

  private async open(provider: string, observed: ObservedDispute): Promise<DisputeRow> {
    // First seen already closed (webhooks out of order): it is recorded open first, then closed.
    const status: DisputeStatus = CLOSED.has(observed.status)
      ? isInquiry(observed.status)
        ? 'warning_needs_response'
        : 'needs_response'
      : observed.status;
    const dispute = await insertDispute(this.trx, {
      id: newId('dp'),
      merchant_id: this.charge.merchant_id,
      livemode: this.charge.livemode,
      charge_id: this.charge.id,
      payment_intent_id: this.charge.payment_intent_id,
      attempt_id: this.charge.attempt_id,
      provider,
      provider_dispute_id: observed.providerDisputeId,
      created_at: this.deps.clock.now(),
      amount: observed.amount,
      currency: observed.currency,
      fee: 0,
      status,
      reason: observed.reason,
    });
    this.charge = await updateCharge(this.trx, this.charge.id, { disputed: true, dispute_status: status });
    await this.record('charge.dispute.created', dispute);
    return dispute;
  }

  /** The provider took the disputed amount (and its fee) from the merchant. */
  private async withdraw(dispute: DisputeRow, fee: number): Promise<DisputeRow> {
    const posted = await this.deps.ledger.post(
      this.trx,
      disputeOpened({
        ...this.common,
        key: postingKey(dispute.attempt_id, `dispute:${dispute.id}`),
        currency: dispute.currency,
        amount: dispute.amount,
        fee,
        source: { type: 'dispute', id: dispute.id },
        description: `Chargeback withdrawal for ${dispute.charge_id}`,
      }),
    );
    return updateDispute(this.trx, dispute.id, { balance_transaction_id: posted.id, fee });
  }

  private async close(dispute: DisputeRow, status: DisputeStatus): Promise<DisputeRow> {
    const withdrawn = dispute.balance_transaction_id !== null;
    const source = { type: 'dispute', id: dispute.id };
    if (status === 'won' && withdrawn) {
      await this.deps.ledger.post(
        this.trx,
        disputeWon({
          ...this.common,
          key: postingKey(dispute.attempt_id, `dispute_won:${dispute.id}`),
          currency: dispute.currency,
          amount: dispute.amount,
          source,
          description: `Chargeback reversal for ${dispute.charge_id}`,
        }),
      );
    } else if (status === 'lost' && withdrawn) {
      await this.deps.ledger.post(
        this.trx,
        disputeLost({
          ...this.common,
          key: postingKey(dispute.attempt_id, `dispute_lost:${dispute.id}`),
          currency: dispute.currency,
          provider: this.charge.provider,
          amount: dispute.amount,
          source,
          description: `Chargeback lost for ${dispute.charge_id}`,
        }),
      );
      this.charge = await this.addLost(dispute.amount);
    }
    const closed = await updateDispute(this.trx, dispute.id, { status, closed_at: this.deps.clock.now() });
    this.charge = await updateCharge(this.trx, this.charge.id, { dispute_status: status });
    await this.record('charge.dispute.closed', closed);
    return closed;
  }

  /**
   * What the charge lost. A dispute may name more than is still unrefunded (a partial refund before it
   * opened); refunded + lost never exceeds captured, so only the unrefunded part counts as lost here.
   */
  private async addLost(amount: number): Promise<ChargeRow> {
    const { charge } = this;
    const open = charge.amount_captured - charge.amount_refunded - charge.amount_lost_in_disputes;
    const lost = Math.max(0, Math.min(amount, open));
    if (lost < amount) {
      this.deps.logger.warn(
        { charge: charge.id, disputed: amount, counted: lost },
        'dispute lost for more than the unrefunded amount of its charge',
      );
    }
    return lost > 0 ? addLost(this.trx, charge.id, lost) : charge;
  }

  private async record(type: string, dispute: DisputeRow): Promise<void> {
    await this.deps.events.record(this.trx, this.scope, { type, object: toDisputeObject(dispute) });
  }
}
