// Owns the provider-facing operations on a payment intent: confirm, capture and cancel, in atomic
// phases (DESIGN sections 5 and 6). Each phase commits before the next provider call, so no database
// transaction is open across a provider call (invariant 4):
//   1. lock the intent, check the transition, insert the attempt (phase `started`), intent `processing`;
//   2. create the provider object with key {mode}:{attempt}:create and save its id (phase `confirming`);
//   3. confirm with key {mode}:{attempt}:confirm; the outcome is applied by PaymentSettlement.
// An interrupted attempt is finished by recovery.ts from the provider's own record, never by guessing.
import type { Insertable, Kysely, Transaction } from 'kysely';
import type { Clock } from '../../clock.js';
import { DEFAULT_ROUTING } from '../../config.js';
import type { Database } from '../../db/schema.js';
import { AppError, invalidParam, missingParam, resourceMissing } from '../../http/errors.js';
import type { Scope } from '../../http/expand.js';
import type { IdempotencyHandle } from '../../http/idempotency.js';
import { newId } from '../../ids.js';
import { providerSupports } from '../../money/currencies.js';
import type {
  AttemptContext,
  PaymentOutcome,
  PaymentProvider,
  PaymentSource,
  ProviderName,
} from '../../providers/provider.js';
import type { RouteQuery } from '../../providers/routing.js';
import type { NewEvent } from '../events/events.js';
import type { EventsService } from '../events/events.service.js';
import { type FraudDecision, outcomeOf } from '../fraud/fraud.service.js';
import {
  blockedDeclineCode,
  type FraudScreening,
  fraudSignalsOf,
  merchantRequestsThreeDSecure,
} from '../fraud/fraud-screen.js';
import type { PaymentMethodsService } from '../payment-methods/payment-methods.service.js';
import type { ResolvedPaymentMethod, RevealedCard } from '../payment-methods/resolved.js';
import { needsAuthentication } from '../payment-methods/sandbox-cards.js';
import { assertCanApply, type Operation } from './payment-intent.states.js';
import {
  type CancelInput,
  type CaptureInput,
  type ConfirmInput,
  toPaymentIntentObject,
} from './payment-intents.js';
import type { PaymentMetrics } from './payments.metrics.js';
import {
  findAttempt,
  findIntent,
  insertAttempt,
  insertIntent,
  lockAttempt,
  lockIntent,
  markConfirming,
  updateAttempt,
  updateIntent,
} from './payments.repository.js';
import type {
  PaymentAttemptRow,
  PaymentIntentRow,
  PaymentIntentsTable,
  StoredPaymentError,
} from './payments.table.js';
import type { PaymentSettlement, RequestRef, Settled } from './settlement.js';
import { recheckAt, recordIntentEvent, WalletRefused } from './settlement.js';
import { isWalletAttempt } from './wallet-settlement.js';

/**
 * The providers as payments see them: an ordered list of candidates per payment, each behind its
 * circuit breaker and limits, and the run-time fallback switch (src/providers/gateway.ts).
 */
export interface PaymentRouting {
  route(query: RouteQuery): Promise<ProviderName[]>;
  provider(name: ProviderName): PaymentProvider | undefined;
  fallbackEnabled(): boolean | Promise<boolean>;
  recordFallback(from: ProviderName, to: ProviderName): void;
}

export interface FlowDeps {
  db: Kysely<Database>;
  clock: Clock;
  routing: PaymentRouting;
  paymentMethods: PaymentMethodsService;
  settlement: PaymentSettlement;
  metrics: PaymentMetrics;
  events: EventsService;
  /** PUBLIC_URL: the provider sends the shopper back to `${publicUrl}/return/<provider>/<attempt>`. */
  publicUrl: () => string;
  /** Customers' wallets, for `payment_method_types[]=wallet` (the wallets module). */
  wallets?: WalletLookup | undefined;
  /** The kill switch and rollout (the flags module); without it every confirmation is admitted. */
  admission?: PaymentAdmission | undefined;
  /** The fraud rules (the fraud module); without it nothing is screened. */
  fraud?: FraudScreening | undefined;
}

/**
 * Whether a new confirmation may start (invariant 10): throws the 503 to answer when not. Only new
 * confirmations ask; captures, cancels, refunds, return hops, webhooks and recovery never do.
 */
export interface PaymentAdmission {
  admitPayment(subject: { merchantId: string; customerId: string | null | undefined }): Promise<void>;
}

/** What payments need of wallets: a customer's open wallet in a currency, or a wallet by id. */
export interface WalletLookup {
  openWallet(
    scope: Scope,
    customerId: string,
    currency: string,
  ): Promise<{ id: string; customer_id: string; currency: string; status: string } | undefined>;
  find(
    scope: Scope,
    id: string,
  ): Promise<{ id: string; customer_id: string; currency: string; status: string } | undefined>;
}

export interface FlowRequest {
  request?: RequestRef;
  idempotency?: IdempotencyHandle | undefined;
}

/** Recovery points of the confirm endpoints (stored with the idempotency key). */
export interface ConfirmRecovery {
  paymentIntentId: string;
  attemptId?: string;
}

const json = (value: unknown) => JSON.stringify(value);

export function attemptContext(attempt: PaymentAttemptRow): AttemptContext {
  return {
    attemptId: attempt.id,
    livemode: attempt.livemode,
    merchantId: attempt.merchant_id,
    paymentIntentId: attempt.payment_intent_id,
    ...(attempt.request_three_d_secure ? { requestThreeDSecure: true } : {}),
  };
}

/** Stripe's 402 for a declined confirmation: the card error with the intent as it now stands. */
export function declineError(intent: PaymentIntentRow): AppError {
  const error = intent.last_payment_error;
  return new AppError(
    402,
    'card_error',
    error?.code ?? 'card_declined',
    error?.message ?? 'Your card was declined.',
    {
      ...(error?.decline_code ? { decline_code: error.decline_code } : {}),
      ...(error?.charge ? { charge: error.charge } : {}),
      payment_intent: toPaymentIntentObject(intent),
      shouldRetry: false,
    },
  );
}

/** What a confirm answers once its attempt has an outcome (also what the completer stores). */
export function confirmAnswer(
  settled: Pick<Settled, 'intent' | 'attempt'>,
  options: { releaseKeyOnNoCharge?: boolean } = {},
): PaymentIntentRow {
  const { intent, attempt } = settled;
  const error = attempt.error;
  if (attempt.status === 'failed' && error?.type === 'card_error') throw declineError(intent);
  if (attempt.status === 'failed' && error) {
    throw new AppError(
      503,
      'api_error',
      'provider_unavailable',
      `The payment provider could not be reached; nothing was charged. ${error.message}`,
      {
        payment_intent: toPaymentIntentObject(intent),
        shouldRetry: true,
        // Nothing was charged and the intent is back where it was: a retry with the same key may run again.
        releasesIdempotencyKey: options.releaseKeyOnNoCharge === true,
      },
    );
  }
  return intent;
}

/** The intent a create-with-confirm is about to insert, as a row, for the checks before it exists. */
export function previewOf(insert: Insertable<PaymentIntentsTable>): PaymentIntentRow {
  const parse = <T>(value: unknown, fallback: T): T =>
    typeof value === 'string' ? (JSON.parse(value) as T) : fallback;
  return {
    ...(insert as unknown as PaymentIntentRow),
    customer_id: insert.customer_id ?? null,
    payment_method_id: insert.payment_method_id ?? null,
    description: insert.description ?? null,
    return_url: insert.return_url ?? null,
    payment_method_types: parse(insert.payment_method_types, ['card']),
    automatic_payment_methods: parse(insert.automatic_payment_methods, null),
    metadata: parse(insert.metadata, {}),
    extra: parse(insert.extra, {}),
    amount_capturable: 0,
    amount_received: 0,
    latest_charge_id: null,
    last_payment_error: null,
    next_action: null,
    canceled_at: null,
    cancellation_reason: null,
    current_attempt_id: null,
    fraud_outcome: null,
  };
}

/** 503 after a provider refusal that proved nothing happened: retrying later may succeed. */
function providerUnavailable(message: string): AppError {
  return new AppError(503, 'api_error', 'provider_unavailable', message, { shouldRetry: true });
}

function previousStillOpen(): AppError {
  return new AppError(
    409,
    'invalid_request_error',
    'payment_intent_action_pending',
    "The PaymentIntent's previous authentication could not be closed at the provider yet; retry in a moment.",
    { shouldRetry: true },
  );
}

/**
 * Locks an intent and its current attempt in the order the settlement takes them (attempt, then
 * intent), so a capture, cancel or confirm and a concurrent settlement can never deadlock. If another
 * request moved the intent to a newer attempt in between, its attempt cannot be locked now (that would
 * be intent-then-attempt): the operation is refused on the intent's new state, or retryably.
 */
async function lockInSettlementOrder(
  trx: Transaction<Database>,
  scope: Scope,
  id: string,
  operation: Operation,
): Promise<{ intent: PaymentIntentRow; attempt: PaymentAttemptRow | undefined }> {
  const peek = await findIntent(trx, scope, id);
  if (!peek) throw resourceMissing('payment_intent', id, 'id');
  const attempt = peek.current_attempt_id ? await lockAttempt(trx, peek.current_attempt_id) : undefined;
  const intent = await lockIntent(trx, scope, id);
  if (!intent) throw resourceMissing('payment_intent', id, 'id');
  if (intent.current_attempt_id === peek.current_attempt_id) return { intent, attempt };
  assertCanApply(operation, intent.status, id);
  throw new AppError(
    409,
    'invalid_request_error',
    'lock_timeout',
    'The payment intent changed meanwhile; retry.',
    {
      shouldRetry: true,
    },
  );
}

/** No attempt could be made: nothing was charged, and a later retry (same key) may be routed again. */
function noProvider(message: string): AppError {
  return new AppError(503, 'api_error', 'provider_unavailable', message, {
    shouldRetry: true,
    releasesIdempotencyKey: true,
  });
}

/** An attempt that ended proving no charge (settlement's no_charge): the only kind that falls back. */
function provedNoCharge(settled: Settled): boolean {
  return settled.attempt.status === 'failed' && settled.attempt.error?.type === 'api_error';
}

/** Where a confirmation's next attempt goes, and the new intent create-with-confirm inserts with it. */
interface AttemptTarget {
  provider: ProviderName;
  insertIntent: Insertable<PaymentIntentsTable> | undefined;
}

interface Prepared {
  method: ResolvedPaymentMethod;
  returnUrl: string | undefined;
  revealed: RevealedCard | undefined;
  /** Providers to try in order; the next one only after the previous proved no charge. */
  candidates: ProviderName[];
  /** The fraud rules' decision (undefined: no rule on); `block` never reaches an attempt. */
  fraud?: FraudDecision | undefined;
}

/**
 * Writes `changes` to an existing intent being confirmed: locked in settlement order, still in a state
 * that may be confirmed, and with no earlier attempt waiting for the shopper.
 */
async function updateForConfirm(
  trx: Transaction<Database>,
  scope: Scope,
  intentId: string,
  changes: Parameters<typeof updateIntent>[2],
): Promise<PaymentIntentRow> {
  const { intent: current, attempt: previous } = await lockInSettlementOrder(trx, scope, intentId, 'confirm');
  assertCanApply('confirm', current.status, current.id);
  if (previous?.status === 'requires_action') throw previousStillOpen();
  return updateIntent(trx, current.id, changes);
}

export class PaymentFlows {
  constructor(private readonly deps: FlowDeps) {}

  /**
   * Refuses a new confirmation the flags do not admit, before anything is read or written (503
   * payments_disabled, idempotency key left free). `confirm` asks first; routes that write something
   * before confirming (an inline payment method) ask before that too.
   */
  async admit(scope: Scope, customerId: string | null | undefined): Promise<void> {
    await this.deps.admission?.admitPayment({ merchantId: scope.merchantId, customerId });
  }

  /** The provider an existing attempt was made with (capture, cancel, closing an old 3DS page). */
  private providerOf(attempt: Pick<PaymentAttemptRow, 'provider'>): PaymentProvider {
    const provider = this.deps.routing.provider(attempt.provider as ProviderName);
    if (!provider) throw noProvider(`The ${attempt.provider} provider of this payment is not configured.`);
    return provider;
  }

  /** Checks everything a confirmation needs before any state changes (invariant 9). */
  private async prepare(scope: Scope, intent: PaymentIntentRow, input: ConfirmInput): Promise<Prepared> {
    assertCanApply('confirm', intent.status, intent.id);
    const paymentMethodId = input.payment_method ?? intent.payment_method_id;
    const types = intent.payment_method_types as string[];
    if ((!paymentMethodId && types.includes('wallet')) || paymentMethodId?.startsWith('wal_')) {
      const method = await this.walletMethod(scope, intent, paymentMethodId ?? undefined);
      return {
        method,
        returnUrl: undefined,
        revealed: undefined,
        candidates: await this.candidates(scope, intent, method),
      };
    }
    if (!paymentMethodId) {
      throw new AppError(
        400,
        'invalid_request_error',
        'payment_intent_unexpected_state',
        'You cannot confirm this PaymentIntent because it has no payment method; pass payment_method.',
        { param: 'payment_method', shouldRetry: false },
      );
    }
    const method = await this.deps.paymentMethods.resolvePaymentMethod(scope, paymentMethodId);
    if (!method) throw resourceMissing('payment_method', paymentMethodId, 'payment_method');
    this.checkMethod(intent, method);
    const returnUrl = input.return_url ?? intent.return_url ?? undefined;
    let revealed: RevealedCard | undefined;
    if (method.type === 'paypal' && !returnUrl) {
      // The payer approves at PayPal and comes back through our return hop to this URL.
      throw missingParam('return_url');
    }
    if (method.type === 'card' && !returnUrl && !scope.livemode) {
      // Revealed once here and reused for the provider call.
      revealed = await method.revealCard('payment_confirm');
      if (needsAuthentication(revealed.number.reveal())) throw missingParam('return_url');
    }
    return { method, returnUrl, revealed, candidates: await this.candidates(scope, intent, method) };
  }

  /**
   * The customer's wallet in the payment's currency, as the payment method of a wallet payment. Checked
   * here, before anything is written: no customer, or no open wallet in that currency, is a 400 naming
   * the parameter. The balance is checked by the settlement, under the wallet's ledger lock.
   */
  private async walletMethod(
    scope: Scope,
    intent: PaymentIntentRow,
    walletId: string | undefined,
  ): Promise<ResolvedPaymentMethod> {
    const wallets = this.deps.wallets;
    if (!wallets) throw noProvider('Wallet payments are not available here; nothing was charged.');
    if (!intent.customer_id) {
      throw invalidParam(
        'customer',
        'A wallet payment needs the customer whose wallet pays it.',
        'parameter_missing',
      );
    }
    if (!(intent.payment_method_types as string[]).includes('wallet')) {
      throw invalidParam(
        'payment_method',
        'A wallet can pay only when payment_method_types includes wallet.',
      );
    }
    const wallet = walletId
      ? await wallets.find(scope, walletId)
      : await wallets.openWallet(scope, intent.customer_id, intent.currency);
    if (walletId && (!wallet || wallet.customer_id !== intent.customer_id)) {
      throw invalidParam(
        'payment_method',
        `No such wallet of customer ${intent.customer_id}: '${walletId}'.`,
      );
    }
    if (wallet?.status !== 'open' || wallet.currency !== intent.currency) {
      throw invalidParam(
        'currency',
        `Customer ${intent.customer_id} has no open ${intent.currency.toUpperCase()} wallet to pay from.`,
      );
    }
    return {
      id: wallet.id,
      type: 'wallet',
      testId: false,
      customer: wallet.customer_id,
      detached: false,
      card: null,
      object: {
        id: wallet.id,
        object: 'payment_method',
        type: 'wallet',
      } as unknown as ResolvedPaymentMethod['object'],
      revealCard: () => Promise.reject(new Error('a wallet has no card')),
    };
  }

  /** A payment method id as an attempt stored it: a wallet (`wal_...`) or a vault payment method. */
  async resolveMethod(scope: Scope, intent: PaymentIntentRow, id: string) {
    if (id.startsWith('wal_')) return this.walletMethod(scope, intent, id).catch(() => null);
    return this.deps.paymentMethods.resolvePaymentMethod(scope, id);
  }

  private async candidates(scope: Scope, intent: PaymentIntentRow, method: ResolvedPaymentMethod) {
    const candidates = await this.deps.routing.route({
      merchantId: scope.merchantId,
      livemode: scope.livemode,
      paymentMethodType: method.type,
      currency: intent.currency,
      amount: intent.amount,
    });
    if (candidates.length === 0) {
      // No candidate because the currency cannot be taken this way (400), or because no provider
      // that could is configured or eligible here (503, nothing charged).
      const anyTakesIt = DEFAULT_ROUTING[method.type].some((name) =>
        providerSupports(name, intent.currency, intent.amount),
      );
      if (!anyTakesIt) {
        throw invalidParam(
          'currency',
          `No configured provider takes ${intent.amount} ${intent.currency.toUpperCase()} by ${method.type}.`,
          'currency_not_supported',
        );
      }
      throw noProvider(
        `No ${method.type} payment provider is configured for this payment; nothing was charged.`,
      );
    }
    return candidates;
  }

  private checkMethod(intent: PaymentIntentRow, method: ResolvedPaymentMethod): void {
    if (method.detached) {
      throw invalidParam(
        'payment_method',
        'This PaymentMethod was detached from its customer and cannot be used again.',
      );
    }
    if (method.customer && intent.customer_id && method.customer !== intent.customer_id) {
      throw invalidParam(
        'payment_method',
        'The PaymentMethod belongs to another customer than this PaymentIntent.',
      );
    }
    if (!(intent.payment_method_types as string[]).includes(method.type)) {
      throw invalidParam(
        'payment_method',
        `The PaymentMethod type ${method.type} is not in this PaymentIntent's payment_method_types.`,
      );
    }
    if (!method.card) return;
    const now = this.deps.clock.now();
    const { exp_year: year, exp_month: month } = method.card;
    if (year < now.getUTCFullYear() || (year === now.getUTCFullYear() && month < now.getUTCMonth() + 1)) {
      throw new AppError(402, 'card_error', 'expired_card', 'Your card has expired.', {
        param: 'payment_method',
        payment_intent: toPaymentIntentObject(intent),
        shouldRetry: false,
      });
    }
  }

  /**
   * Confirms `intent`. With `flow.create` the intent is new (create-with-confirm): it is inserted in
   * the same transaction as its first attempt, and its stored answer keeps its idempotency key (a retry
   * must not create a second intent); a plain confirm that proved no charge frees its key.
   *
   * Candidates are tried in routing order. The next provider gets its own attempt only when the last
   * one proved that no money moved (connection refused, circuit open, 401/403, 429, 400) and the
   * fallback switch is on; a decline or an unknown outcome ends the confirmation (invariant 2).
   */
  async confirm(
    scope: Scope,
    intent: PaymentIntentRow,
    input: ConfirmInput,
    flow: FlowRequest & { create?: Insertable<PaymentIntentsTable> },
  ): Promise<PaymentIntentRow> {
    await this.admit(scope, intent.customer_id);
    const prepared = await this.prepare(scope, intent, input);
    if (intent.status === 'requires_action') await this.closePreviousAttempt(intent);
    // Screened before any provider is asked to charge; a block ends the confirmation here (402).
    prepared.fraud = await this.deps.fraud?.screen(fraudSignalsOf(scope, intent, prepared.method, input));
    if (prepared.fraud?.verdict === 'block') await this.refuseAsFraud(scope, intent, flow, prepared);
    const { candidates } = prepared;
    let settled: Settled | undefined;
    for (const [index, name] of candidates.entries()) {
      const provider = this.deps.routing.provider(name);
      if (!provider) continue;
      const options = {
        provider: name,
        // Create-with-confirm inserts the intent with its first attempt, whichever provider that is.
        insertIntent: settled === undefined ? flow.create : undefined,
      };
      if (isWalletAttempt(options)) {
        settled = await this.confirmWallet(provider, scope, intent, input, flow, prepared, options);
      } else {
        const started = await this.startAttempt(scope, intent, input, flow, prepared, options);
        settled = await this.run(provider, started, prepared.method, flow.request, prepared.revealed);
      }
      const next = candidates[index + 1];
      if (!next || !provedNoCharge(settled) || !(await this.deps.routing.fallbackEnabled())) break;
      this.deps.routing.recordFallback(name, next);
    }
    if (!settled)
      throw noProvider('No payment provider is configured for this payment; nothing was charged.');
    // One confirmation is one attempt in the metrics (DESIGN section 9), whatever fell back inside it.
    this.deps.metrics.attempts.inc({ gateway: settled.attempt.provider });
    return confirmAnswer(settled, { releaseKeyOnNoCharge: flow.create === undefined });
  }

  /** Phase 1, one transaction: the intent moves to processing with a new attempt on `provider`. */
  private async startAttempt(
    scope: Scope,
    intent: PaymentIntentRow,
    input: ConfirmInput,
    flow: FlowRequest,
    prepared: Prepared,
    options: AttemptTarget,
  ): Promise<PaymentAttemptRow> {
    return this.deps.db
      .transaction()
      .execute(
        async (trx) => (await this.writeStart(trx, scope, intent, input, flow, prepared, options)).attempt,
      );
  }

  /**
   * A wallet confirmation, whole, in one transaction (phase 1 and the settlement together). The
   * wallet provider's calls do no I/O and move no money (they only say what the settlement will post),
   * so they are made first, outside the transaction; the transaction then records the attempt and
   * settles it, the ledger locking the wallet and checking its balance there. Nothing is half done if
   * the process dies: either all of it committed or none of it, so recovery has nothing to finish.
   * This saves the two commits, the phase mark and the relocking a two-phase external confirmation
   * needs (invariant 4 is about calls that leave the process; these do not).
   */
  private async confirmWallet(
    provider: PaymentProvider,
    scope: Scope,
    intent: PaymentIntentRow,
    input: ConfirmInput,
    flow: FlowRequest,
    prepared: Prepared,
    options: AttemptTarget,
  ): Promise<Settled> {
    const startedAt = performance.now();
    const attemptId = newId('pa');
    const context: AttemptContext = {
      attemptId,
      livemode: scope.livemode,
      merchantId: scope.merchantId,
      paymentIntentId: intent.id,
    };
    const captureMethod = input.capture_method ?? intent.capture_method;
    const created = await provider.createPayment({
      ...context,
      amount: intent.amount,
      currency: intent.currency,
      captureMethod:
        captureMethod === 'manual' || prepared.fraud?.verdict === 'review' ? 'manual' : 'automatic',
    });
    const outcome =
      'status' in created
        ? created
        : await provider.confirm(context, created.providerPaymentId, await this.sourceOf(prepared.method));
    this.countError(provider.name, outcome);
    const providerPaymentId = 'status' in created ? undefined : created.providerPaymentId;
    const once = (applied: PaymentOutcome) =>
      this.deps.db.transaction().execute(async (trx) => {
        const started = await this.writeStart(trx, scope, intent, input, flow, prepared, options, {
          attemptId,
          providerPaymentId,
          deferEvents: true,
        });
        return this.deps.settlement.applyIn(trx, started, applied, {
          request: flow.request,
          startedAt,
          method: prepared.method,
        });
      });
    try {
      return await once(outcome);
    } catch (error) {
      // Too little in the wallet: nothing of the first try stayed; the attempt is recorded declined.
      if (error instanceof WalletRefused) return once(error.decline);
      throw error;
    }
  }

  /**
   * Phase 1's writes: the intent moves to processing with a new attempt on `options.provider`. With
   * `made.deferEvents` the intent's creation event is returned rather than written, for the caller to
   * write with the events that follow in the same transaction (one statement).
   */
  private async writeStart(
    trx: Transaction<Database>,
    scope: Scope,
    intent: PaymentIntentRow,
    input: ConfirmInput,
    flow: FlowRequest,
    prepared: Prepared,
    options: AttemptTarget,
    made: { attemptId?: string; providerPaymentId?: string | undefined; deferEvents?: boolean } = {},
  ): Promise<{ attempt: PaymentAttemptRow; intent: PaymentIntentRow; events: NewEvent[] }> {
    const { method, returnUrl } = prepared;
    const attemptId = made.attemptId ?? newId('pa');
    const now = this.deps.clock.now();
    const captureMethod = input.capture_method ?? intent.capture_method;
    const fraud = prepared.fraud;
    const confirming = {
      status: 'processing' as const,
      payment_method_id: method.id,
      capture_method: captureMethod,
      return_url: returnUrl ?? null,
      current_attempt_id: attemptId,
      last_payment_error: json(null),
      next_action: json(null),
      ...(fraud ? { fraud_outcome: json(outcomeOf(fraud)) } : {}),
    };
    // A review holds the payment at authorization whatever the capture method (approving captures it);
    // a rule or the merchant may ask the provider for 3-D Secure.
    const holdForReview = fraud?.verdict === 'review';
    const requestThreeDSecure =
      fraud?.triggered.some((rule) => rule.action === 'request_three_d_secure') === true ||
      merchantRequestsThreeDSecure(input.payment_method_options ?? intent.extra.payment_method_options);
    const events: NewEvent[] = [];
    let confirmed: PaymentIntentRow;
    if (options.insertIntent) {
      confirmed = await insertIntent(trx, { ...options.insertIntent, ...confirming });
      const created = {
        type: 'payment_intent.created',
        object: toPaymentIntentObject({
          ...confirmed,
          status: intent.status,
          current_attempt_id: null,
          capture_method: intent.capture_method,
        }),
        request: flow.request,
      };
      if (made.deferEvents) events.push(created);
      else await this.deps.events.record(trx, scope, created);
    } else {
      confirmed = await updateForConfirm(trx, scope, intent.id, confirming);
    }
    // The fraud history row goes in with the attempt (one statement) when the fraud module offers it.
    const fraudCheck = fraud ? this.deps.fraud?.checkRow?.(fraud, attemptId) : undefined;
    const attempt = await insertAttempt(
      trx,
      {
        id: attemptId,
        payment_intent_id: intent.id,
        merchant_id: scope.merchantId,
        livemode: scope.livemode,
        provider: options.provider,
        payment_method_id: method.id,
        amount: intent.amount,
        currency: intent.currency,
        capture_method: holdForReview ? 'manual' : captureMethod,
        request_three_d_secure: requestThreeDSecure,
        hold_for_review: holdForReview,
        created_at: now,
        phase: made.providerPaymentId ? 'confirming' : 'started',
        ...(made.providerPaymentId ? { provider_payment_id: made.providerPaymentId } : {}),
        status: 'pending',
        return_url: returnUrl ?? null,
        error: json(null),
        next_check_at: recheckAt(now),
      },
      fraudCheck,
    );
    if (fraud && !this.deps.fraud?.checkRow) await this.deps.fraud?.record(trx, fraud, attemptId);
    await flow.idempotency?.checkpoint(trx, 'attempt_started', {
      paymentIntentId: intent.id,
      attemptId,
    } satisfies ConfirmRecovery);
    return { attempt, intent: confirmed, events };
  }

  /**
   * A confirmation a fraud rule blocked: no attempt and no provider call, so nothing is charged or
   * posted. The intent (inserted now for a create-with-confirm) records the decline as Stripe shows a
   * Radar block (`card_declined`, decline code `fraudulent`, or `merchant_blacklist` for a blocklist),
   * with its fraud outcome, in one transaction with its events and the check the card-testing rule
   * counts; the answer is the 402.
   */
  private async refuseAsFraud(
    scope: Scope,
    intent: PaymentIntentRow,
    flow: FlowRequest & { create?: Insertable<PaymentIntentsTable> },
    prepared: Prepared,
  ): Promise<never> {
    const decision = prepared.fraud as FraudDecision;
    const error: StoredPaymentError = {
      type: 'card_error',
      code: 'card_declined',
      decline_code: blockedDeclineCode(decision),
      message: 'Your card was declined.',
    };
    const declined = {
      status: 'requires_payment_method' as const,
      payment_method_id: prepared.method.id,
      last_payment_error: json(error),
      next_action: json(null),
      fraud_outcome: json(outcomeOf(decision)),
    };
    const refused = await this.deps.db.transaction().execute(async (trx) => {
      let row: PaymentIntentRow;
      if (flow.create) {
        row = await insertIntent(trx, { ...flow.create, ...declined });
        await this.deps.events.record(trx, scope, {
          type: 'payment_intent.created',
          object: toPaymentIntentObject({ ...row, status: intent.status, last_payment_error: null }),
          request: flow.request,
        });
      } else {
        row = await updateForConfirm(trx, scope, intent.id, declined);
      }
      await recordIntentEvent(
        this.deps.events,
        trx,
        scope,
        row,
        'payment_intent.payment_failed',
        flow.request,
      );
      await this.deps.fraud?.record(trx, decision, null);
      return row;
    });
    throw declineError(refused);
  }

  /**
   * A confirmation while the shopper has a 3DS page open: the old provider payment is canceled first,
   * so approving that page later cannot charge a second time. If the shopper finished it meanwhile,
   * that outcome is recorded instead (and the confirmation then meets the intent's new state).
   */
  private async closePreviousAttempt(intent: PaymentIntentRow): Promise<void> {
    const previous = intent.current_attempt_id
      ? await findAttempt(this.deps.db, intent.current_attempt_id)
      : undefined;
    if (!previous?.provider_payment_id || previous.status !== 'requires_action') return;
    const provider = this.deps.routing.provider(previous.provider as ProviderName);
    if (!provider) throw previousStillOpen();
    const outcome = await provider.cancel(attemptContext(previous), previous.provider_payment_id);
    if (outcome.status === 'canceled') {
      await this.deps.settlement.retire(previous.id);
      return;
    }
    if (outcome.status === 'unknown' || outcome.status === 'no_charge') throw previousStillOpen();
    await this.deps.settlement.apply(previous.id, outcome);
  }

  /** Phases 2 and 3 for a started attempt; also how recovery finishes one that never reached confirm. */
  async run(
    provider: PaymentProvider,
    attempt: PaymentAttemptRow,
    method: ResolvedPaymentMethod,
    request?: RequestRef,
    revealedCard?: RevealedCard,
  ): Promise<Settled> {
    const startedAt = performance.now();
    const context = attemptContext(attempt);
    let providerPaymentId = attempt.provider_payment_id;
    if (!providerPaymentId) {
      const created = await provider.createPayment({
        ...context,
        amount: attempt.amount,
        currency: attempt.currency,
        captureMethod: attempt.capture_method === 'manual' ? 'manual' : 'automatic',
        returnUrl: this.returnHop(attempt),
      });
      if ('status' in created) {
        this.countError(provider.name, created);
        // Creating the provider object charges nothing: an unknown answer is retried by recovery (same key).
        return this.deps.settlement.apply(attempt.id, created, { request, startedAt, method });
      }
      providerPaymentId = created.providerPaymentId;
      const marked = await markConfirming(this.deps.db, attempt.id, providerPaymentId);
      if (!marked) {
        // Another run of this phase (recovery, a retried request) got there first: its record stands,
        // and confirming again with the same key could only replay what it did.
        const current = await findAttempt(this.deps.db, attempt.id);
        if (current?.provider_payment_id !== providerPaymentId || current.phase !== 'confirming') {
          return this.deps.settlement.read(attempt.id);
        }
      }
    }
    const source = await this.sourceOf(method, revealedCard);
    const outcome = await provider.confirm(context, providerPaymentId, source, this.returnHop(attempt));
    this.countError(provider.name, outcome);
    return this.deps.settlement.apply(attempt.id, outcome, { request, startedAt, method });
  }

  /** What the provider is given: the card from the vault, or nothing (the payer approves at PayPal). */
  private async sourceOf(method: ResolvedPaymentMethod, revealedCard?: RevealedCard): Promise<PaymentSource> {
    if (method.type === 'paypal') return { kind: 'redirect_wallet' };
    if (method.type === 'wallet') return { kind: 'provider_token', token: method.customer ?? '' };
    const revealed = revealedCard ?? (await method.revealCard('payment_confirm'));
    return {
      kind: 'card',
      card: {
        number: revealed.number.reveal(),
        expMonth: revealed.exp_month,
        expYear: revealed.exp_year,
        cvc: revealed.cvc?.reveal(),
      },
    };
  }

  private returnHop(attempt: PaymentAttemptRow): string {
    return `${this.deps.publicUrl().replace(/\/$/, '')}/return/${attempt.provider}/${attempt.id}`;
  }

  private countError(
    gateway: string,
    outcome: Pick<PaymentOutcome, 'status'> & { reason?: string; message?: string },
  ): void {
    if (outcome.status === 'unknown') {
      const timeout = /timed out|timeout/i.test(outcome.message ?? '');
      this.deps.metrics.gatewayErrors.inc({ gateway, error_type: timeout ? 'timeout' : 'unknown_outcome' });
    } else if (outcome.status === 'no_charge') {
      const type =
        outcome.reason === 'rate_limited'
          ? 'rate_limited'
          : outcome.reason === 'invalid_request' || outcome.reason === 'authentication'
            ? 'rejected'
            : 'unavailable';
      this.deps.metrics.gatewayErrors.inc({ gateway, error_type: type });
    }
  }

  /**
   * A payment a fraud rule held at authorization, its review approved: captured now, as its capture
   * method asked at confirmation; a merchant who chose manual capture captures it as usual.
   */
  async releaseHeld(scope: Scope, id: string): Promise<void> {
    const intent = await findIntent(this.deps.db, scope, id);
    if (intent?.status !== 'requires_capture' || intent.capture_method === 'manual') return;
    const attempt = intent.current_attempt_id
      ? await findAttempt(this.deps.db, intent.current_attempt_id)
      : undefined;
    if (!attempt?.hold_for_review) return;
    await this.capture(scope, id, {}, {});
  }

  async capture(scope: Scope, id: string, input: CaptureInput, flow: FlowRequest): Promise<PaymentIntentRow> {
    const { attempt, provider } = await this.deps.db.transaction().execute(async (trx) => {
      const { intent, attempt: current } = await lockInSettlementOrder(trx, scope, id, 'capture');
      assertCanApply('capture', intent.status, id);
      const amount = input.amount_to_capture ?? intent.amount_capturable;
      if (amount <= 0)
        throw invalidParam(
          'amount_to_capture',
          'amount_to_capture must be a positive integer.',
          'amount_too_small',
        );
      if (amount > intent.amount_capturable) {
        throw invalidParam(
          'amount_to_capture',
          `amount_to_capture (${amount}) is greater than the amount capturable (${intent.amount_capturable}).`,
          'amount_too_large',
        );
      }
      if (!current?.provider_payment_id)
        throw new Error(`intent ${id} is requires_capture without a provider attempt`);
      // Resolved before anything is written: an unconfigured provider changes nothing (503).
      const provider = this.providerOf(current);
      await updateIntent(trx, id, {
        status: 'processing',
        ...(input.metadata !== undefined
          ? { metadata: json({ ...intent.metadata, ...(input.metadata ?? {}) }) }
          : {}),
      });
      await flow.idempotency?.checkpoint(trx, 'capture_started', {
        paymentIntentId: id,
        attemptId: current.id,
      } satisfies ConfirmRecovery);
      const pending = await updateAttempt(trx, current.id, {
        pending_operation: 'capture',
        capture_amount: amount,
        next_check_at: recheckAt(this.deps.clock.now()),
      });
      return { attempt: pending, provider };
    });
    const outcome = await provider.capture(
      attemptContext(attempt),
      attempt.provider_payment_id as string,
      attempt.capture_amount as number,
    );
    this.countError(provider.name, outcome);
    const settled = await this.deps.settlement.apply(
      attempt.id,
      outcome,
      flow.request ? { request: flow.request } : {},
    );
    if (outcome.status === 'no_charge') {
      throw providerUnavailable(
        `The capture could not reach the provider; nothing was captured. ${outcome.message}`,
      );
    }
    return settled.intent;
  }

  async cancel(scope: Scope, id: string, input: CancelInput, flow: FlowRequest): Promise<PaymentIntentRow> {
    const intent = await this.deps.db.transaction().execute(async (trx) => {
      const { intent: current, attempt } = await lockInSettlementOrder(trx, scope, id, 'cancel');
      assertCanApply('cancel', current.status, id);
      const atProvider =
        attempt?.provider_payment_id && ['requires_action', 'requires_capture'].includes(current.status);
      if (!atProvider) {
        const row = await updateIntent(trx, id, {
          status: 'canceled',
          canceled_at: this.deps.clock.now(),
          cancellation_reason: input.cancellation_reason ?? null,
          next_action: json(null),
        });
        await recordIntentEvent(this.deps.events, trx, scope, row, 'payment_intent.canceled', flow.request);
        return { row, attempt: undefined };
      }
      await updateIntent(trx, id, { cancellation_reason: input.cancellation_reason ?? null });
      const pending = await updateAttempt(trx, (attempt as PaymentAttemptRow).id, {
        pending_operation: 'cancel',
        next_check_at: recheckAt(this.deps.clock.now()),
      });
      return { row: current, attempt: pending };
    });
    if (!intent.attempt) return intent.row;
    // The provider object must be canceled too, or the shopper could still complete 3DS and be charged.
    const provider = this.providerOf(intent.attempt);
    const outcome = await provider.cancel(
      attemptContext(intent.attempt),
      intent.attempt.provider_payment_id as string,
    );
    this.countError(provider.name, outcome);
    const settled = await this.deps.settlement.apply(
      intent.attempt.id,
      outcome,
      flow.request ? { request: flow.request } : {},
    );
    if (outcome.status === 'no_charge') {
      throw providerUnavailable(
        `The cancel could not reach the provider; the payment is unchanged. ${outcome.message}`,
      );
    }
    if (settled.intent.status !== 'canceled' && outcome.status !== 'unknown') {
      assertCanApply(
        'cancel',
        settled.intent.status === 'processing' ? 'succeeded' : settled.intent.status,
        id,
      );
    }
    return settled.intent;
  }
}
