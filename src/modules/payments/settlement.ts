// Owns applying a provider outcome to an attempt, its payment intent and its charge, with the ledger
// posting and the events, in one transaction (invariant 4). Every path that learns an outcome comes
// here: the synchronous confirm and capture, the 3DS return hop, inbound webhooks and the settlement
// job. Applying is idempotent and order-insensitive: the attempt row is locked and its recorded status
// decides whether an outcome is news; the ledger key derives from (attempt, event), so the synchronous
// answer and its webhook post once between them.
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import type { Scope } from '../../http/expand.js';
import { newId } from '../../ids.js';
import type { Logger } from '../../observability/logger.js';
import type { ChargeFacts, PaymentOutcome } from '../../providers/provider.js';
import type { NewEvent } from '../events/events.js';
import type { EventsService } from '../events/events.service.js';
import { chargeSucceeded, postingKey } from '../ledger/ledger.postings.js';
import type { LedgerService } from '../ledger/ledger.service.js';
import type { ResolvedPaymentMethod } from '../payment-methods/resolved.js';
import { TEST_PAYMENT_METHODS } from '../payment-methods/sandbox-cards.js';
import type { VaultService } from '../vault/vault.service.js';
import { toChargeObject } from './charges.js';
import { canSettle, type PaymentIntentStatus } from './payment-intent.states.js';
import { toPaymentIntentObject } from './payment-intents.js';
import type { AttemptResult, PaymentMetrics } from './payments.metrics.js';
import {
  findAttempt,
  findChargeByAttempt,
  findIntent,
  insertCharge,
  lockAttempt,
  lockChargeByAttempt,
  lockIntent,
  updateAttempt,
  updateCharge,
  updateIntent,
} from './payments.repository.js';
import type {
  ChargeCard,
  ChargeRow,
  PaymentAttemptRow,
  PaymentIntentRow,
  StoredPaymentError,
} from './payments.table.js';
import {
  isWalletAttempt,
  topUpWalletOf,
  WalletPostings,
  type WalletTopUpListener,
} from './wallet-settlement.js';

export interface RequestRef {
  id?: string | undefined;
  idempotencyKey?: string | undefined;
}

export interface SettlementDeps {
  db: Kysely<Database>;
  clock: Clock;
  ledger: LedgerService;
  events: EventsService;
  vault: VaultService;
  metrics: PaymentMetrics;
  logger: Logger;
  resolvePaymentMethod(scope: Scope, id: string): Promise<ResolvedPaymentMethod | null>;
  /** Told when a wallet top-up posts (the wallets module records `wallet.funded`). */
  walletTopUps?: WalletTopUpListener | undefined;
  /** Told of declines, which the card-testing rule counts (the fraud module). */
  fraud?: { attemptDeclined(trx: Trx, attemptId: string): Promise<void> } | undefined;
  /** Opens the `rule` review that holds an authorization a fraud rule flagged (the reviews module). */
  ruleReviews?: RuleReviews | undefined;
}

/** What settlement needs of reviews: a `rule` review on a charge, opened in the settlement's transaction. */
export interface RuleReviews {
  openForRule(
    trx: Trx,
    scope: Scope,
    charge: { id: string; payment_intent_id: string },
    request?: RequestRef,
  ): Promise<string>;
  /** Closes the charge's open review as `canceled` when its authorization is released (Stripe's rule). */
  closeCanceled(trx: Trx, scope: Scope, reviewId: string, request?: RequestRef): Promise<void>;
}

export interface Settled {
  intent: PaymentIntentRow;
  attempt: PaymentAttemptRow;
  charge: ChargeRow | undefined;
  /** False when the outcome was already recorded (a webhook after the synchronous answer, say). */
  changed: boolean;
}

/**
 * When the settlement job should next ask the provider about an attempt: soon while it is young, then
 * backing off with its age (half its age, between 15 s and 1 h).
 */
export function recheckAt(now: Date, createdAt: Date = now): Date {
  const age = now.getTime() - createdAt.getTime();
  return new Date(now.getTime() + Math.min(Math.max(15_000, age / 2), 3_600_000));
}

type Trx = Transaction<Database>;

/**
 * Thrown from inside a settlement when the ledger refused a wallet payment at its last step (the
 * balance was too small): the transaction rolls back, and the caller applies `decline` in a new one.
 */
export class WalletRefused extends Error {
  constructor(readonly decline: Extract<PaymentOutcome, { status: 'declined' }>) {
    super('the wallet balance is insufficient');
  }
}

export class PaymentSettlement {
  constructor(private readonly deps: SettlementDeps) {}

  /**
   * Applies `outcome` to the attempt. `no_charge` returns the intent to where a new confirmation can
   * start; `unknown` leaves it processing and schedules a check (invariant 3).
   */
  async apply(
    attemptId: string,
    outcome: PaymentOutcome,
    options: { request?: RequestRef; startedAt?: number; method?: ResolvedPaymentMethod } = {},
  ): Promise<Settled> {
    const card = options.method ? chargeCardOf(options.method) : await this.cardFor(attemptId);
    const once = (applied: PaymentOutcome) =>
      this.deps.db.transaction().execute((trx) => this.applyLocked(trx, attemptId, applied, card, options));
    try {
      return await once(outcome);
    } catch (error) {
      if (error instanceof WalletRefused) return once(error.decline);
      throw error;
    }
  }

  /**
   * `apply` inside the caller's transaction, which may already hold the attempt and intent (a wallet
   * confirmation records its attempt and settles it in one transaction); `options.method` is required
   * here, since the card display data cannot be read before a transaction that is already open.
   */
  async applyIn(
    trx: Trx,
    started: { attempt: PaymentAttemptRow; intent: PaymentIntentRow; events: NewEvent[] },
    outcome: PaymentOutcome,
    options: { request?: RequestRef; startedAt?: number; method: ResolvedPaymentMethod },
  ): Promise<Settled> {
    const { attempt, intent, events } = started;
    return this.applyTo(trx, attempt, intent, outcome, chargeCardOf(options.method), options, events);
  }

  private async applyLocked(
    trx: Trx,
    attemptId: string,
    outcome: PaymentOutcome,
    card: ChargeCard | null,
    options: { request?: RequestRef; startedAt?: number },
  ): Promise<Settled> {
    const attempt = await lockAttempt(trx, attemptId);
    if (!attempt) throw new Error(`payment attempt ${attemptId} not found`);
    const scope = { merchantId: attempt.merchant_id, livemode: attempt.livemode };
    const intent = await lockIntent(trx, scope, attempt.payment_intent_id);
    if (!intent) throw new Error(`payment intent ${attempt.payment_intent_id} not found`);
    return this.applyTo(trx, attempt, intent, outcome, card, options);
  }

  /** One outcome applied to an attempt and intent this transaction holds, its events written last. */
  private async applyTo(
    trx: Trx,
    attempt: PaymentAttemptRow,
    intent: PaymentIntentRow,
    outcome: PaymentOutcome,
    card: ChargeCard | null,
    options: { request?: RequestRef; startedAt?: number },
    events: NewEvent[] = [],
  ): Promise<Settled> {
    const scope = { merchantId: attempt.merchant_id, livemode: attempt.livemode };
    const context = new ApplyContext(this.deps, trx, scope, attempt, intent, card, options, events);
    await context.run(outcome);
    await context.flushEvents();
    return context.result();
  }

  /**
   * Closes an attempt whose provider payment was canceled because a newer confirmation replaces it;
   * the intent is left to the new attempt.
   */
  async retire(attemptId: string): Promise<void> {
    await this.deps.db.transaction().execute(async (trx) => {
      const attempt = await lockAttempt(trx, attemptId);
      if (attempt?.status !== 'requires_action') return;
      await updateAttempt(trx, attemptId, {
        status: 'canceled',
        phase: 'settled',
        pending_operation: null,
        settled_at: this.deps.clock.now(),
        next_check_at: null,
      });
    });
  }

  /** The attempt, its intent and charge as recorded, without applying anything. */
  async read(attemptId: string): Promise<Settled> {
    const attempt = await findAttempt(this.deps.db, attemptId);
    if (!attempt) throw new Error(`payment attempt ${attemptId} not found`);
    const scope = { merchantId: attempt.merchant_id, livemode: attempt.livemode };
    const intent = await findIntent(this.deps.db, scope, attempt.payment_intent_id);
    if (!intent) throw new Error(`payment intent ${attempt.payment_intent_id} not found`);
    const charge = await findChargeByAttempt(this.deps.db, attemptId);
    return { intent, attempt, charge, changed: false };
  }

  /** Card display data for the charge, read before the transaction (the vault is not needed for it). */
  private async cardFor(attemptId: string): Promise<ChargeCard | null> {
    const attempt = await findAttempt(this.deps.db, attemptId);
    if (!attempt?.payment_method_id) return null;
    const method = await this.deps.resolvePaymentMethod(
      { merchantId: attempt.merchant_id, livemode: attempt.livemode },
      attempt.payment_method_id,
    );
    return method ? chargeCardOf(method) : null;
  }
}

/** One application of one outcome, inside the transaction holding the attempt and intent locks. */
class ApplyContext {
  private changed = false;
  private charge: ChargeRow | undefined;

  constructor(
    private readonly deps: SettlementDeps,
    private readonly trx: Trx,
    private readonly scope: Scope,
    private attempt: PaymentAttemptRow,
    private intent: PaymentIntentRow,
    private readonly card: ChargeCard | null,
    private readonly options: { request?: RequestRef; startedAt?: number },
    /** Events already due in this transaction (the intent's creation), written with the settlement's. */
    private readonly pendingEvents: NewEvent[] = [],
  ) {}

  result(): Settled {
    return { intent: this.intent, attempt: this.attempt, charge: this.charge, changed: this.changed };
  }

  private get now(): Date {
    return this.deps.clock.now();
  }

  async run(outcome: PaymentOutcome): Promise<void> {
    this.charge = this.attempt.charge_id ? await lockChargeByAttempt(this.trx, this.attempt.id) : undefined;
    switch (outcome.status) {
      case 'succeeded':
        return this.succeeded(outcome.charge);
      case 'requires_capture':
        return this.authorized(outcome.charge);
      case 'requires_action':
        return this.actionRequired(outcome.redirectUrl);
      case 'declined':
        return this.declined(outcome);
      case 'canceled':
        return this.canceled();
      case 'no_charge':
        return this.noCharge(outcome.message);
      case 'unknown':
        this.deps.logger.warn(
          { attempt: this.attempt.id, payment_intent: this.intent.id, reason: outcome.message },
          'provider outcome unknown; the attempt waits for evidence',
        );
        return this.unknown();
    }
  }

  private final(): boolean {
    return ['succeeded', 'failed', 'canceled'].includes(this.attempt.status);
  }

  private async succeeded(facts: ChargeFacts): Promise<void> {
    if (this.attempt.status === 'succeeded' || this.attempt.status === 'failed')
      return this.settleOperation();
    const wasAuthorized =
      this.charge !== undefined && !this.charge.captured && this.charge.status === 'succeeded';
    const wallet = isWalletAttempt(this.attempt);
    const captured = wallet
      ? // The wallet's amounts are the attempt's (wallet.provider.ts).
        wasAuthorized
        ? (this.attempt.capture_amount ?? this.attempt.amount)
        : this.attempt.amount
      : facts.amountCaptured > 0
        ? facts.amountCaptured
        : facts.amount;
    const fee = wallet ? 0 : Math.min(facts.fee ?? 0, captured);
    // The ledger transaction's id is chosen now so the charge can name it; the posting itself comes
    // last, so the balance rows it locks are held only until the commit that follows.
    let transactionId: string | null = newId('txn');
    const topUpWallet = topUpWalletOf(this.intent);
    if (wallet && wasAuthorized) {
      // A capture of a hold cannot be refused: the funds are already set aside.
      transactionId = (await this.walletPostings().capture(transactionId, captured)).id;
    } else if (topUpWallet) {
      // A top-up moves no merchant balance, so it has no balance transaction.
      transactionId = null;
    }
    const charge = await this.upsertCharge(
      wallet ? { ...facts, amount: this.attempt.amount, amountCaptured: captured } : facts,
      {
        status: 'succeeded',
        captured: true,
        paid: true,
        amount_captured: captured,
        fee,
        balance_transaction_id: transactionId,
      },
    );
    await this.record(wasAuthorized ? 'charge.captured' : 'charge.succeeded', 'charge');
    await this.settleAttempt('succeeded', null);
    await this.moveIntent('succeeded', {
      amount_received: captured,
      amount_capturable: 0,
      latest_charge_id: charge.id,
      next_action: JSON.stringify(null),
      last_payment_error: JSON.stringify(null),
    });
    await this.finalAuthorization();
    await this.flushEvents();
    if (wallet && !wasAuthorized) {
      // The wallet is debited last, so its ledger lock (the balance check) is held only until the
      // commit that follows. A refusal rolls all of this back: the caller records a decline instead.
      const posted = await this.walletPostings().pay(transactionId ?? newId('txn'), captured);
      if ('status' in posted) throw new WalletRefused(posted);
      if (posted.id !== transactionId) {
        this.charge = await updateCharge(this.trx, charge.id, { balance_transaction_id: posted.id });
      }
    }
    if (!wasAuthorized) this.count('succeeded');
    if (wallet) return;
    if (topUpWallet) {
      await this.walletPostings().topUp(newId('txn'), captured);
      await this.deps.walletTopUps?.recordTopUp(
        this.trx,
        this.scope,
        topUpWallet,
        captured,
        this.options.request,
      );
      return;
    }
    const posted = await this.deps.ledger.post(
      this.trx,
      chargeSucceeded({
        id: transactionId as string,
        key: postingKey(this.attempt.id, 'charge'),
        livemode: this.attempt.livemode,
        merchantId: this.attempt.merchant_id,
        currency: this.attempt.currency,
        provider: this.attempt.provider,
        amount: captured,
        fee,
        source: { type: 'charge', id: charge.id },
        description: this.intent.description,
      }),
    );
    if (posted.id !== transactionId) {
      // Posted before under this key (cannot happen while the attempt row is locked, but never guess).
      this.charge = await updateCharge(this.trx, charge.id, { balance_transaction_id: posted.id });
    }
  }

  private walletPostings(): WalletPostings {
    return new WalletPostings(this.deps.ledger, this.trx, this.attempt, this.intent);
  }

  private async authorized(reported: ChargeFacts): Promise<void> {
    let facts = reported;
    if (this.attempt.status === 'requires_capture' || this.final()) return this.settleOperation();
    if (isWalletAttempt(this.attempt)) {
      // The hold is the authorization: placed under the wallet's ledger lock, or a decline.
      const held = await this.walletPostings().hold();
      if ('status' in held) return this.declined(held);
      facts = { ...facts, amount: this.attempt.amount };
    }
    let charge = await this.upsertCharge(facts, {
      status: 'succeeded',
      captured: false,
      paid: true,
      amount_captured: 0,
      fee: null,
    });
    // A fraud rule's review holds this authorization: the review opens with it, as Stripe's `rule`
    // review does, and the charge and intent name it in the events that follow.
    const review =
      this.attempt.hold_for_review && this.deps.ruleReviews && !charge.review_id
        ? await this.deps.ruleReviews.openForRule(this.trx, this.scope, charge, this.options.request)
        : undefined;
    if (review) {
      charge = { ...charge, review_id: review };
      this.charge = charge;
    }
    await this.record('charge.succeeded', 'charge');
    await this.settleAttempt('requires_capture', null);
    await this.moveIntent('requires_capture', {
      amount_capturable: charge.amount,
      latest_charge_id: charge.id,
      next_action: JSON.stringify(null),
      last_payment_error: JSON.stringify(null),
      ...(review && this.intent.fraud_outcome
        ? { fraud_outcome: JSON.stringify({ ...this.intent.fraud_outcome, review }) }
        : {}),
    });
    await this.finalAuthorization();
    this.count('requires_capture');
  }

  private async actionRequired(redirectUrl: string): Promise<void> {
    if (this.attempt.status !== 'pending') return;
    await this.settleAttempt('requires_action', null);
    await this.moveIntent('requires_action', {
      next_action: JSON.stringify({
        type: 'redirect_to_url',
        redirect_to_url: { url: redirectUrl, return_url: this.attempt.return_url },
      }),
    });
    this.count('requires_action');
  }

  private async declined(outcome: Extract<PaymentOutcome, { status: 'declined' }>): Promise<void> {
    if (this.final() || this.attempt.status === 'requires_capture') return this.settleOperation();
    let chargeId: string | undefined;
    if (outcome.charge) {
      const charge = await this.upsertCharge(outcome.charge, {
        status: 'failed',
        captured: false,
        paid: false,
        amount_captured: 0,
        fee: null,
        failure_code: outcome.code,
        failure_message: outcome.message,
        decline_code: outcome.declineCode ?? null,
      });
      chargeId = charge.id;
      await this.record('charge.failed', 'charge');
    }
    const error: StoredPaymentError = {
      type: 'card_error',
      code: outcome.code,
      decline_code: outcome.declineCode,
      message: outcome.message,
      charge: chargeId,
    };
    await this.settleAttempt('failed', error);
    await this.deps.fraud?.attemptDeclined(this.trx, this.attempt.id);
    await this.moveIntent(
      'requires_payment_method',
      {
        last_payment_error: JSON.stringify(error),
        next_action: JSON.stringify(null),
        ...(chargeId ? { latest_charge_id: chargeId } : {}),
      },
      'payment_intent.payment_failed',
    );
    this.count('declined');
    this.deps.metrics.declines.inc({
      gateway: this.attempt.provider,
      decline_code: outcome.declineCode ?? outcome.code,
    });
  }

  private async canceled(): Promise<void> {
    if (this.final()) return this.settleOperation();
    // A held wallet payment gives its hold back (the hold exists exactly when the attempt says so).
    if (isWalletAttempt(this.attempt) && this.attempt.status === 'requires_capture') {
      await this.walletPostings().release();
    }
    await this.settleAttempt('canceled', null);
    if (this.charge?.review_id) {
      await this.deps.ruleReviews?.closeCanceled(
        this.trx,
        this.scope,
        this.charge.review_id,
        this.options.request,
      );
    }
    await this.moveIntent('canceled', {
      amount_capturable: 0,
      next_action: JSON.stringify(null),
      canceled_at: this.now,
      cancellation_reason: this.intent.cancellation_reason ?? 'requested_by_customer',
    });
    await this.finalAuthorization();
    this.count('canceled');
  }

  /** Proven: no money moved. A confirmation returns the intent to where it can be confirmed again. */
  private async noCharge(message: string): Promise<void> {
    if (this.attempt.pending_operation) {
      // A capture or cancel the provider refused outright: the authorization stands as it was.
      this.attempt = await updateAttempt(this.trx, this.attempt.id, {
        pending_operation: null,
        capture_amount: null,
        next_check_at: null,
      });
      if (this.intent.status === 'processing') {
        this.intent = await updateIntent(this.trx, this.intent.id, { status: 'requires_capture' });
      }
      return;
    }
    if (this.final() || this.attempt.status !== 'pending') return;
    const error: StoredPaymentError = { type: 'api_error', code: 'provider_unavailable', message };
    await this.settleAttempt('failed', error);
    this.intent = await updateIntent(this.trx, this.intent.id, {
      status: 'requires_payment_method',
      last_payment_error: JSON.stringify(error),
      current_attempt_id: null,
    });
    this.changed = true;
    this.count('failed');
  }

  /**
   * Not known yet: the attempt waits for evidence. A confirmation that was sent moves to `unknown`; one
   * whose provider object could not even be created stays `started` (nothing was confirmed).
   */
  private async unknown(): Promise<void> {
    if (this.attempt.phase === 'settled' && !this.attempt.pending_operation) return;
    const first = this.attempt.phase !== 'unknown';
    this.attempt = await updateAttempt(this.trx, this.attempt.id, {
      phase:
        this.attempt.phase === 'confirming' && !this.attempt.pending_operation
          ? 'unknown'
          : this.attempt.phase,
      next_check_at: recheckAt(this.now, this.attempt.created_at),
    });
    if (first && this.attempt.phase === 'unknown') this.count('processing');
  }

  /** A capture or cancel in flight on an attempt whose status already reflects it: just clear it. */
  private async settleOperation(): Promise<void> {
    if (!this.attempt.pending_operation) return;
    this.attempt = await updateAttempt(this.trx, this.attempt.id, {
      pending_operation: null,
      capture_amount: null,
      next_check_at: null,
    });
    if (this.intent.status === 'processing' && this.attempt.status === 'requires_capture') {
      this.intent = await updateIntent(this.trx, this.intent.id, { status: 'requires_capture' });
    }
  }

  private async upsertCharge(
    facts: ChargeFacts,
    state: Pick<ChargeRow, 'status' | 'captured' | 'paid' | 'amount_captured' | 'fee'> &
      Partial<
        Pick<ChargeRow, 'failure_code' | 'failure_message' | 'decline_code' | 'balance_transaction_id'>
      >,
  ): Promise<ChargeRow> {
    if (this.charge) {
      this.charge = await updateCharge(this.trx, this.charge.id, {
        ...state,
        provider_charge_id: facts.providerChargeId,
      });
      return this.charge;
    }
    const card = this.card ?? cardFromFacts(facts);
    // The attempt learns its charge id in settleAttempt's update, which always follows.
    this.charge = await insertCharge(this.trx, {
      id: newId('ch'),
      merchant_id: this.attempt.merchant_id,
      livemode: this.attempt.livemode,
      payment_intent_id: this.intent.id,
      attempt_id: this.attempt.id,
      created_at: this.now,
      amount: this.attempt.amount,
      currency: this.attempt.currency,
      provider: this.attempt.provider,
      provider_charge_id: facts.providerChargeId,
      customer_id: this.intent.customer_id,
      description: this.intent.description,
      metadata: JSON.stringify(this.intent.metadata),
      payment_method_id: this.attempt.payment_method_id,
      card: JSON.stringify(card),
      failure_code: null,
      failure_message: null,
      decline_code: null,
      // The confirmation's fraud decision, for the charge's `outcome` (when its attempt was screened).
      ...(this.intent.fraud_outcome && this.intent.current_attempt_id === this.attempt.id
        ? { fraud_outcome: JSON.stringify(this.intent.fraud_outcome) }
        : {}),
      ...state,
    });
    return this.charge;
  }

  private async settleAttempt(
    status: PaymentAttemptRow['status'],
    error: StoredPaymentError | null,
  ): Promise<void> {
    const startedAt = this.options.startedAt;
    this.attempt = await updateAttempt(this.trx, this.attempt.id, {
      status,
      charge_id: this.charge?.id ?? this.attempt.charge_id,
      phase: 'settled',
      pending_operation: null,
      capture_amount: null,
      error: JSON.stringify(error),
      settled_at: this.now,
      next_check_at: status === 'requires_action' ? new Date(this.now.getTime() + 3_600_000) : null,
      ...(startedAt !== undefined && this.attempt.latency_ms === null
        ? { latency_ms: Math.round(performance.now() - startedAt) }
        : {}),
    });
    this.changed = true;
  }

  private async moveIntent(
    to: PaymentIntentStatus,
    changes: Parameters<typeof updateIntent>[2],
    eventType?: string,
  ): Promise<void> {
    const outcome = OUTCOME_BY_TARGET[to];
    if (
      this.intent.current_attempt_id !== this.attempt.id ||
      !outcome ||
      !canSettle(outcome, this.intent.status)
    ) {
      // The intent moved on (a newer attempt, a cancel): the attempt's own record and any charge are kept
      // as the evidence, and the mismatch is logged as an error for an operator to resolve.
      this.deps.logger.error(
        { payment_intent: this.intent.id, attempt: this.attempt.id, status: this.intent.status, outcome: to },
        'provider outcome does not apply to the payment intent in its current state',
      );
      return;
    }
    this.intent = await updateIntent(this.trx, this.intent.id, { status: to, ...changes });
    await this.record(eventType ?? `payment_intent.${INTENT_EVENTS[to]}`, 'intent');
  }

  /** Queues an event with the object as it is now; flushEvents writes them all in one statement. */
  private async record(type: string, what: 'intent' | 'charge'): Promise<void> {
    const object =
      what === 'intent' ? toPaymentIntentObject(this.intent) : toChargeObject(this.charge as ChargeRow);
    this.pendingEvents.push({ type, object, request: this.options.request });
  }

  async flushEvents(): Promise<void> {
    const events = this.pendingEvents.splice(0);
    await this.deps.events.recordMany(this.trx, this.scope, events);
  }

  /** The payment reached a final authorization result: the CVC is not needed again (DESIGN section 6). */
  private async finalAuthorization(): Promise<void> {
    // Shared test ids (pm_card_visa, ...) have no vault rows, and a wallet has no CVC.
    const method = this.attempt.payment_method_id;
    if (method && !(method in TEST_PAYMENT_METHODS) && !isWalletAttempt(this.attempt)) {
      await this.deps.vault.deleteCvc(this.scope, method, this.trx);
    }
  }

  private count(result: AttemptResult): void {
    const startedAt = this.options.startedAt;
    this.deps.metrics.recordResult(
      this.attempt.provider,
      result,
      startedAt === undefined ? undefined : (performance.now() - startedAt) / 1000,
    );
  }
}

export async function recordIntentEvent(
  events: EventsService,
  trx: Trx,
  scope: Scope,
  intent: PaymentIntentRow,
  type: string,
  request?: RequestRef,
): Promise<void> {
  await events.record(trx, scope, { type, object: toPaymentIntentObject(intent), request });
}

const OUTCOME_BY_TARGET: Partial<Record<PaymentIntentStatus, Parameters<typeof canSettle>[0]>> = {
  succeeded: 'succeeded',
  requires_capture: 'authorized',
  requires_action: 'action_required',
  requires_payment_method: 'declined',
  canceled: 'voided',
};

const INTENT_EVENTS: Partial<Record<PaymentIntentStatus, string>> = {
  succeeded: 'succeeded',
  requires_capture: 'amount_capturable_updated',
  requires_action: 'requires_action',
  requires_payment_method: 'payment_failed',
  canceled: 'canceled',
};

/** A charge's card details; null for payment methods without a card (PayPal's wallet). */
function chargeCardOf(method: ResolvedPaymentMethod): ChargeCard | null {
  if (!method.card) return null;
  return {
    ...method.card,
    billing_details: method.object.billing_details,
    cvc_check: method.object.card?.checks?.cvc_check ?? null,
  };
}

function cardFromFacts(facts: ChargeFacts): ChargeCard | null {
  if (!facts.cardLast4) return null;
  return {
    brand: facts.cardBrand ?? 'unknown',
    last4: facts.cardLast4,
    exp_month: 0,
    exp_year: 0,
    fingerprint: null,
    funding: 'unknown',
    country: null,
    billing_details: null,
    cvc_check: null,
  };
}
