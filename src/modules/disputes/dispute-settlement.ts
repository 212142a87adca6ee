// Owns applying what the provider says about a dispute to our dispute row, its charge, the ledger and
// the events, in one transaction under the charge's lock (the lock refunds take, so a refund and a
// dispute on one charge never interleave). Provider webhooks arrive in any order and more than once, so
// the dispute row's recorded state decides what is news:
//   - first sight: the row is created and `charge.dispute.created` recorded; the charge is `disputed`;
//   - funds withdrawn (any chargeback status, not an inquiry): `dispute` posted once;
//   - won: `dispute_reversal` posted; lost: `dispute_loss` posted and the charge's amount lost grows;
//     either records `charge.dispute.closed`, once; a closed dispute never reopens;
//   - the merchant's evidence or metadata: `charge.dispute.updated`, also when the provider's answer
//     closes the dispute at once (recorded before the close).
// Ledger keys derive from (attempt, dispute), never from a webhook id (DESIGN section 8).
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import type { Scope } from '../../http/expand.js';
import { newId } from '../../ids.js';
import type { Logger } from '../../observability/logger.js';
import type { ProviderDispute } from '../../providers/provider.js';
import type { EventsService } from '../events/events.service.js';
import {
  disputeLost,
  disputeOpened,
  disputeWon,
  postingKey,
  walletTopUpDisputed,
  walletTopUpDisputeWon,
} from '../ledger/ledger.postings.js';
import type { LedgerService } from '../ledger/ledger.service.js';
import type { ChargeRow } from '../payments/payments.table.js';
import { isClosed, renderDispute } from './dispute-object.js';
import {
  addLost,
  findDisputeByProviderId,
  findDisputeForUpdate,
  findTopUpWallet,
  insertDispute,
  lockChargeById,
  updateCharge,
  updateDispute,
} from './disputes.repository.js';
import type { DisputeRow, DisputeStatus } from './disputes.table.js';

/** A provider's dispute, as its webhook or its API answer describes it. */
export type ObservedDispute = Omit<ProviderDispute, 'providerChargeId'>;

/** What the merchant changed through the API, applied with the provider's answer in one transaction. */
export interface MerchantDisputeChange {
  evidence?: Record<string, string> | undefined;
  metadata?: Record<string, string> | undefined;
  /** The evidence was submitted to the provider (not only saved). */
  submitted?: boolean | undefined;
}

export interface DisputeSettlementDeps {
  db: Kysely<Database>;
  clock: Clock;
  ledger: LedgerService;
  events: EventsService;
  logger: Logger;
}

/** Inquiries (warning_*) withdraw nothing; every other status means the funds were taken. */
const isInquiry = (status: DisputeStatus) => status.startsWith('warning_');

type Trx = Transaction<Database>;

export class DisputeSettlement {
  constructor(private readonly deps: DisputeSettlementDeps) {}

  async apply(
    chargeId: string,
    provider: string,
    observed: ObservedDispute,
    merchant: MerchantDisputeChange = {},
  ): Promise<DisputeRow | undefined> {
    return this.deps.db.transaction().execute(async (trx) => {
      const charge = await lockChargeById(trx, chargeId);
      if (!charge) return undefined;
      const change = new DisputeChange(this.deps, trx, charge);
      return change.run(provider, observed, merchant);
    });
  }

  /** A metadata-only update: nothing goes to the provider. */
  async updateMetadata(dispute: DisputeRow, metadata: Record<string, string>): Promise<DisputeRow> {
    return this.deps.db.transaction().execute(async (trx) => {
      const charge = await lockChargeById(trx, dispute.charge_id);
      if (!charge) throw new Error(`dispute ${dispute.id}: charge ${dispute.charge_id} is missing`);
      const change = new DisputeChange(this.deps, trx, charge);
      return change.changeMetadata(dispute.id, metadata);
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

  async run(
    provider: string,
    observed: ObservedDispute,
    merchant: MerchantDisputeChange,
  ): Promise<DisputeRow> {
    let dispute = await findDisputeByProviderId(this.trx, provider, observed.providerDisputeId);
    if (!dispute) dispute = await this.open(provider, observed);
    const before = dispute;
    dispute = await this.merchantChange(dispute, merchant);
    if (isClosed(dispute.status)) {
      // A closed dispute never reopens; only what the merchant changed (metadata) is news.
      if (dispute !== before)
        await this.record('charge.dispute.updated', dispute, this.changed(before, dispute));
      return dispute;
    }
    const byMerchant = this.changed(before, dispute);
    if (!isInquiry(observed.status) && !dispute.balance_transaction_id) {
      dispute = await this.withdraw(dispute, observed.fee);
    }
    if (isClosed(observed.status)) {
      // Evidence the provider decided on at once is still news of its own (Stripe sends the update,
      // then the close), so the merchant's change is recorded before the dispute closes.
      if (Object.keys(byMerchant).length > 0)
        await this.record('charge.dispute.updated', dispute, byMerchant);
      return this.close(dispute, observed.status);
    }
    const dueBy = observed.dueBy ?? dispute.due_by;
    if (observed.status !== dispute.status || dueBy?.getTime() !== dispute.due_by?.getTime()) {
      dispute = await updateDispute(this.trx, dispute.id, { status: observed.status, due_by: dueBy });
      await updateCharge(this.trx, this.charge.id, { dispute_status: observed.status });
    }
    const previous = this.changed(before, dispute);
    if (Object.keys(previous).length > 0) await this.record('charge.dispute.updated', dispute, previous);
    return dispute;
  }

  async changeMetadata(id: string, metadata: Record<string, string>): Promise<DisputeRow> {
    const before = await findDisputeForUpdate(this.trx, id);
    const after = await this.merchantChange(before, { metadata });
    if (after !== before) await this.record('charge.dispute.updated', after, this.changed(before, after));
    return after;
  }

  private async merchantChange(dispute: DisputeRow, merchant: MerchantDisputeChange): Promise<DisputeRow> {
    const changes: Parameters<typeof updateDispute>[2] = {};
    if (merchant.evidence) changes.evidence = JSON.stringify({ ...dispute.evidence, ...merchant.evidence });
    if (merchant.metadata) changes.metadata = JSON.stringify(merchant.metadata);
    if (merchant.submitted) changes.evidence_submission_count = dispute.evidence_submission_count + 1;
    if (Object.keys(changes).length === 0) return dispute;
    return updateDispute(this.trx, dispute.id, changes);
  }

  /** Stripe's `previous_attributes` for a `charge.dispute.updated`: the fields whose values changed. */
  private changed(before: DisputeRow, after: DisputeRow): Record<string, unknown> {
    const previous: Record<string, unknown> = {};
    if (before.status !== after.status) previous['status'] = before.status;
    if (JSON.stringify(before.evidence) !== JSON.stringify(after.evidence))
      previous['evidence'] = before.evidence;
    if (JSON.stringify(before.metadata) !== JSON.stringify(after.metadata))
      previous['metadata'] = before.metadata;
    if (before.evidence_submission_count !== after.evidence_submission_count) {
      previous['evidence_details'] = { submission_count: before.evidence_submission_count };
    }
    if (before.due_by?.getTime() !== after.due_by?.getTime()) {
      previous['evidence_details'] = {
        ...(previous['evidence_details'] as object | undefined),
        due_by: before.due_by ? Math.floor(before.due_by.getTime() / 1000) : null,
      };
    }
    if (before.case_type !== after.case_type)
      previous['payment_method_details'] = { case_type: before.case_type };
    return previous;
  }

  private get common() {
    return {
      livemode: this.charge.livemode,
      merchantId: this.charge.merchant_id,
    };
  }

  private async open(provider: string, observed: ObservedDispute): Promise<DisputeRow> {
    // First seen already closed (webhooks out of order): it is recorded open first, then closed.
    const status: DisputeStatus = isClosed(observed.status)
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
      due_by: observed.dueBy,
      case_type: isInquiry(status) ? 'inquiry' : 'chargeback',
    });
    this.charge = await updateCharge(this.trx, this.charge.id, { disputed: true, dispute_status: status });
    await this.record('charge.dispute.created', dispute);
    return dispute;
  }

  /** The provider took the disputed amount (and its fee) from the merchant. */
  private async withdraw(dispute: DisputeRow, fee: number): Promise<DisputeRow> {
    const key = postingKey(dispute.attempt_id, `dispute:${dispute.id}`);
    const source = { type: 'dispute', id: dispute.id };
    const description = `Chargeback withdrawal for ${dispute.charge_id}`;
    const wallet = await findTopUpWallet(this.trx, dispute.payment_intent_id);
    let covered: number | null = null;
    let postingId: string;
    if (wallet) {
      // A wallet top-up credited the wallet, not the merchant: the wallet gives back what it still
      // holds, read under its lock; what was already spent is the platform's loss (wallets never go
      // negative).
      const walletBalance = await this.deps.ledger.lockedBalance(
        this.trx,
        dispute.livemode,
        { type: 'customer_wallet', merchantId: dispute.merchant_id, customerId: wallet.customer_id },
        dispute.currency,
      );
      covered = Math.min(dispute.amount, Math.max(0, walletBalance));
      const posting = walletTopUpDisputed({
        ...this.common,
        key,
        currency: dispute.currency,
        customerId: wallet.customer_id,
        amount: dispute.amount,
        walletBalance,
        fee,
        source,
        description,
      });
      postingId = (await this.deps.ledger.post(this.trx, posting)).id;
    } else {
      const posting = disputeOpened({
        ...this.common,
        key,
        currency: dispute.currency,
        amount: dispute.amount,
        fee,
        source,
        description,
      });
      postingId = (await this.deps.ledger.post(this.trx, posting)).id;
    }
    // An inquiry that escalated is a chargeback from here on.
    const withdrawn = await updateDispute(this.trx, dispute.id, {
      balance_transaction_id: postingId,
      fee,
      case_type: 'chargeback',
      wallet_covered: covered,
    });
    await this.record('charge.dispute.funds_withdrawn', withdrawn);
    return withdrawn;
  }

  private async close(dispute: DisputeRow, status: DisputeStatus): Promise<DisputeRow> {
    const withdrawn = dispute.balance_transaction_id !== null;
    const source = { type: 'dispute', id: dispute.id };
    if (status === 'won' && withdrawn) {
      const key = postingKey(dispute.attempt_id, `dispute_won:${dispute.id}`);
      const description = `Chargeback reversal for ${dispute.charge_id}`;
      const wallet =
        dispute.wallet_covered === null
          ? undefined
          : await findTopUpWallet(this.trx, dispute.payment_intent_id);
      await this.deps.ledger.post(
        this.trx,
        wallet
          ? walletTopUpDisputeWon({
              ...this.common,
              key,
              currency: dispute.currency,
              customerId: wallet.customer_id,
              amount: dispute.amount,
              covered: dispute.wallet_covered ?? 0,
              source,
              description,
            })
          : disputeWon({
              ...this.common,
              key,
              currency: dispute.currency,
              amount: dispute.amount,
              source,
              description,
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
    if (status === 'won' && withdrawn) {
      await this.record('charge.dispute.funds_reinstated', closed, { status: dispute.status });
    }
    await this.record('charge.dispute.closed', closed, { status: dispute.status });
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

  private async record(type: string, dispute: DisputeRow, previous?: Record<string, unknown>): Promise<void> {
    const object = await renderDispute(
      this.trx,
      dispute,
      this.charge.card?.brand ?? null,
      this.deps.clock.now(),
    );
    await this.deps.events.record(this.trx, this.scope, {
      type,
      object,
      ...(previous && Object.keys(previous).length > 0 ? { previousAttributes: previous } : {}),
    });
  }
}
