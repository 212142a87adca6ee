// Owns the Stripe adapter: our PaymentProvider on the official SDK, speaking HTTP to Stripe or to an
// emulator at STRIPE_API_BASE (there is no other mode). Every POST carries the idempotency key derived
// from (livemode, attempt, operation), so a retried call can only replay, never charge again; the SDK
// retries nothing on its own. Errors become typed outcomes here (stripe.errors.ts), objects become
// outcomes in stripe.transformers.ts, webhooks are verified in stripe.webhook.ts.
import Stripe from 'stripe';
import type { Clock } from '../../clock.js';
import { providerSupports } from '../../money/currencies.js';
import {
  type AttemptContext,
  type CreatePaymentRequest,
  DisputeActionError,
  type DisputeOperations,
  type EvidenceFile,
  type PaymentOutcome,
  type PaymentProvider,
  type PaymentSource,
  type ProviderDispute,
  type ProviderEvent,
  type ProviderRecord,
  providerIdempotencyKey,
  type ReconciliationSource,
  type RefundOutcome,
} from '../provider.js';
import { DEFAULT_PROVIDER_TIMEOUT_MS, withDeadline } from '../resilience.js';
import { stripeDispute } from './stripe.disputes.js';
import { needsStateReadBack, paymentFailure, refundFailure } from './stripe.errors.js';
import { stripeChargeRecords } from './stripe.reconciliation.js';
import {
  CHARGE_EXPAND,
  confirmParams,
  createParams,
  toPaymentOutcome,
  toRefundOutcome,
} from './stripe.transformers.js';
import { verifyStripeWebhook } from './stripe.webhook.js';

export interface StripeProviderOptions {
  secretKey: string;
  /** `scheme://host[:port]`; unset means Stripe itself (https://api.stripe.com). */
  apiBase?: string | undefined;
  timeoutMs?: number;
  /** Every secret inbound webhooks may be signed with (several during a rotation). */
  webhookSecrets: readonly string[];
  clock: Clock;
}

type CreateResult = Awaited<ReturnType<PaymentProvider['createPayment']>>;

export function stripeClient(secretKey: string, apiBase: string | undefined, timeoutMs: number): Stripe {
  const base = apiBase ? new URL(apiBase) : undefined;
  const protocol = base?.protocol === 'http:' ? 'http' : 'https';
  return new Stripe(secretKey, {
    ...(base ? { host: base.hostname, port: base.port || (protocol === 'http' ? 80 : 443), protocol } : {}),
    // Retries are ours to decide (never after an unknown outcome), so the SDK makes none.
    maxNetworkRetries: 0,
    timeout: timeoutMs,
    telemetry: false,
  });
}

export class StripeProvider implements PaymentProvider, DisputeOperations, ReconciliationSource {
  readonly name = 'stripe' as const;
  readonly livemode: boolean;
  private readonly stripe: Stripe;
  private readonly timeoutMs: number;

  constructor(private readonly options: StripeProviderOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_PROVIDER_TIMEOUT_MS;
    this.livemode = /^(sk|rk)_live_/.test(options.secretKey);
    this.stripe = stripeClient(options.secretKey, options.apiBase, this.timeoutMs);
  }

  private call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    return withDeadline(`Stripe ${operation}`, this.timeoutMs, run);
  }

  private now(): number {
    return this.options.clock.now().getTime();
  }

  async createPayment(request: CreatePaymentRequest): Promise<CreateResult> {
    if (!providerSupports('stripe', request.currency, request.amount)) {
      return {
        status: 'no_charge',
        reason: 'unsupported',
        message: `Stripe does not take ${request.amount} in ${request.currency.toUpperCase()}`,
      };
    }
    try {
      const pi = await this.call('create payment', () =>
        this.stripe.paymentIntents.create(createParams(request), {
          idempotencyKey: providerIdempotencyKey(request, 'create'),
        }),
      );
      return { providerPaymentId: pi.id };
    } catch (error) {
      const failure = paymentFailure(error, undefined, this.now());
      if (failure.status === 'no_charge' || failure.status === 'unknown') return failure;
      // Creating an unconfirmed intent charges nothing; anything else it answers is unexpected.
      return { status: 'unknown', message: `unexpected answer to create: ${failure.status}` };
    }
  }

  async confirm(
    context: AttemptContext,
    providerPaymentId: string,
    source: PaymentSource,
    returnUrl?: string,
  ): Promise<PaymentOutcome> {
    if (source.kind === 'redirect_wallet') {
      return {
        status: 'no_charge',
        reason: 'unsupported',
        message: 'Stripe takes cards, not redirect wallets',
      };
    }
    return this.payment('confirm', providerPaymentId, () =>
      this.stripe.paymentIntents.confirm(
        providerPaymentId,
        confirmParams(source, returnUrl, context.requestThreeDSecure),
        {
          idempotencyKey: providerIdempotencyKey(context, 'confirm'),
        },
      ),
    );
  }

  capture(context: AttemptContext, providerPaymentId: string, amount: number): Promise<PaymentOutcome> {
    return this.payment('capture', providerPaymentId, () =>
      this.stripe.paymentIntents.capture(
        providerPaymentId,
        { amount_to_capture: amount, expand: CHARGE_EXPAND },
        { idempotencyKey: providerIdempotencyKey(context, 'capture') },
      ),
    );
  }

  cancel(context: AttemptContext, providerPaymentId: string): Promise<PaymentOutcome> {
    return this.payment('cancel', providerPaymentId, () =>
      this.stripe.paymentIntents.cancel(
        providerPaymentId,
        {},
        { idempotencyKey: providerIdempotencyKey(context, 'cancel') },
      ),
    );
  }

  retrieve(_context: AttemptContext, providerPaymentId: string): Promise<PaymentOutcome> {
    return this.payment('retrieve', providerPaymentId, () =>
      this.stripe.paymentIntents.retrieve(providerPaymentId, { expand: CHARGE_EXPAND }),
    );
  }

  async refund(
    context: AttemptContext & { refundId: string },
    providerPaymentId: string,
    amount: number,
  ): Promise<RefundOutcome> {
    try {
      const refund = await this.call('refund', () =>
        this.stripe.refunds.create(
          { payment_intent: providerPaymentId, amount, metadata: { refund_id: context.refundId } },
          // One key per refund: several partial refunds of one attempt must not replay each other.
          { idempotencyKey: providerIdempotencyKey(context, `refund_${context.refundId}`) },
        ),
      );
      return toRefundOutcome(refund);
    } catch (error) {
      return refundFailure(error, this.now());
    }
  }

  /** The file fields already hold Stripe's own file ids (uploadEvidenceFile), so `files` is not needed. */
  submitDisputeEvidence(
    providerDisputeId: string,
    evidence: Record<string, string>,
    submit: boolean,
  ): Promise<ProviderDispute> {
    return this.dispute('submit dispute evidence', () =>
      this.stripe.disputes.update(providerDisputeId, { evidence, submit }),
    );
  }

  /**
   * Stripe's file upload (multipart, to files.stripe.com or to STRIPE_API_BASE's host). An upload
   * repeated after a lost answer makes a second, unused copy at Stripe: harmless, and nothing else.
   */
  async uploadEvidenceFile(file: EvidenceFile): Promise<string> {
    try {
      const uploaded = await this.call('upload dispute evidence file', () =>
        this.stripe.files.create({
          purpose: 'dispute_evidence',
          file: { data: Buffer.from(file.contents), name: file.filename, type: 'application/octet-stream' },
        }),
      );
      return uploaded.id;
    } catch (error) {
      throw disputeActionError(error, 'upload dispute evidence file');
    }
  }

  closeDispute(providerDisputeId: string): Promise<ProviderDispute> {
    return this.dispute('close dispute', () => this.stripe.disputes.close(providerDisputeId));
  }

  /** Charges created in [from, to), a page at a time (reconciliation). */
  records(from: Date, to: Date): AsyncIterable<ProviderRecord[]> {
    return stripeChargeRecords(this.stripe, from, to, (operation, run) => this.call(operation, run));
  }

  async paymentOfCharge(providerChargeId: string): Promise<string | undefined> {
    try {
      const charge = await this.call('retrieve charge', () => this.stripe.charges.retrieve(providerChargeId));
      return typeof charge.payment_intent === 'string' ? charge.payment_intent : charge.payment_intent?.id;
    } catch (error) {
      if (error instanceof Stripe.errors.StripeInvalidRequestError && error.statusCode === 404)
        return undefined;
      throw error;
    }
  }

  private async dispute(operation: string, run: () => Promise<Stripe.Dispute>): Promise<ProviderDispute> {
    let answer: Stripe.Dispute;
    try {
      answer = await this.call(operation, run);
    } catch (error) {
      throw disputeActionError(error, operation);
    }
    const mapped = stripeDispute(answer);
    if (!mapped)
      throw new DisputeActionError('unavailable', `Stripe ${operation}: unreadable dispute in answer`);
    return mapped;
  }

  parseWebhook(rawBody: Buffer, headers: Record<string, string | string[] | undefined>): ProviderEvent {
    return verifyStripeWebhook(rawBody, headers, this.options.webhookSecrets, this.options.clock);
  }

  /**
   * A cheap authenticated read for the `stripe_api` health check (one payment intent, which every
   * Stripe key may list and the emulator serves); throws when Stripe cannot be reached or refuses us.
   */
  async ping(timeoutMs: number): Promise<void> {
    await withDeadline('Stripe ping', timeoutMs, () =>
      this.stripe.paymentIntents.list({ limit: 1 }, { timeout: timeoutMs }),
    );
  }

  private async payment(
    operation: string,
    providerPaymentId: string,
    run: () => Promise<Stripe.PaymentIntent>,
  ): Promise<PaymentOutcome> {
    try {
      return toPaymentOutcome(await this.call(operation, run));
    } catch (error) {
      if (operation !== 'retrieve' && needsStateReadBack(error)) {
        const state = await this.payment('retrieve', providerPaymentId, () =>
          this.stripe.paymentIntents.retrieve(providerPaymentId, { expand: CHARGE_EXPAND }),
        );
        // The intent's state is the evidence; if it cannot be read, the refusal proves nothing either.
        if (state.status !== 'no_charge') return state;
        return {
          status: 'unknown',
          providerPaymentId,
          message: `Stripe refused the ${operation} for the intent's state, which could not be read: ${state.message}`,
        };
      }
      return paymentFailure(error, providerPaymentId, this.now());
    }
  }
}

/**
 * A 4xx is Stripe refusing the action (closed, past due, a file it will not take); anything else leaves
 * it undone or unknown, and every dispute call is safe to repeat.
 */
function disputeActionError(error: unknown, operation: string): DisputeActionError {
  if (error instanceof Stripe.errors.StripeInvalidRequestError) {
    return new DisputeActionError('refused', error.message);
  }
  return new DisputeActionError('unavailable', `Stripe ${operation}: ${(error as Error).message}`);
}
