// Owns finishing attempts whose outcome is not recorded: the process died between phases, a provider
// call timed out, a capture or cancel was left in flight, a shopper never came back from 3DS. Evidence
// comes from the provider's own record (a GET of the saved object). The only POSTs repeated are ones
// whose first sending is not known to have happened, under the same idempotency key, inside the
// provider's key window: so a repeat can only replay, never charge twice (DESIGN sections 5 and 6).
import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { AppError } from '../../http/errors.js';
import type { IdempotencyHandle } from '../../http/idempotency.js';
import { INTERRUPTED_BODY } from '../../http/idempotency.js';
import type { Logger } from '../../observability/logger.js';
import type { PaymentOutcome, PaymentProvider, ProviderName } from '../../providers/provider.js';
import type { PaymentMethodsService } from '../payment-methods/payment-methods.service.js';
import {
  attemptContext,
  type ConfirmRecovery,
  confirmAnswer,
  type PaymentFlows,
  type PaymentRouting,
} from './payment-flows.js';
import { type PaymentIntentObject, toPaymentIntentObject } from './payment-intents.js';
import { dueAttempts, findAttempt, findIntent, updateAttempt } from './payments.repository.js';
import type { PaymentAttemptRow } from './payments.table.js';
import { type PaymentSettlement, recheckAt, type Settled } from './settlement.js';

/** Stripe keeps idempotency keys for 24 h; we stop repeating any POST well inside that. */
export const PROVIDER_KEY_WINDOW_MS = 23 * 3_600_000;
/** A confirmation sent but never seen by the provider is given this long before it is canceled there. */
export const UNCONFIRMED_GRACE_MS = 10 * 60_000;
/**
 * Younger attempts may still have their own request in flight (provider timeouts are at most 120 s):
 * recovery then only records definite outcomes and repeats nothing.
 */
export const IN_FLIGHT_MS = 150_000;

export interface RecoveryDeps {
  db: Kysely<Database>;
  clock: Clock;
  routing: Pick<PaymentRouting, 'provider'>;
  paymentMethods: PaymentMethodsService;
  flows: PaymentFlows;
  settlement: PaymentSettlement;
  logger: Logger;
}

export function isUnsettled(attempt: PaymentAttemptRow): boolean {
  return attempt.phase !== 'settled' || attempt.pending_operation !== null;
}

export class PaymentRecovery {
  constructor(private readonly deps: RecoveryDeps) {}

  private provider(attempt: PaymentAttemptRow): PaymentProvider {
    const provider = this.deps.routing.provider(attempt.provider as ProviderName);
    if (!provider)
      throw new Error(`provider ${attempt.provider} is not configured; attempt ${attempt.id} waits`);
    return provider;
  }

  /**
   * The provider's record of the attempt. A read refused before it reached the provider (circuit
   * open, connection refused, 429) is no evidence of anything: it reads as unknown, never as no charge.
   */
  private async read(provider: PaymentProvider, attempt: PaymentAttemptRow): Promise<PaymentOutcome> {
    const outcome = await provider.retrieve(attemptContext(attempt), attempt.provider_payment_id as string);
    if (outcome.status !== 'no_charge') return outcome;
    return { status: 'unknown', message: `The provider could not be read: ${outcome.message}` };
  }

  /**
   * A shopper approved at the provider (PayPal): the attempt is finished there with its own key, but
   * only while it is still the intent's live attempt waiting for that approval; an attempt retired by
   * a newer confirmation or canceled is never completed, so approving a stale page charges nothing.
   */
  private async completeApproved(
    provider: PaymentProvider,
    attempt: PaymentAttemptRow,
    outcome: PaymentOutcome,
  ): Promise<PaymentOutcome> {
    if (outcome.status !== 'requires_action' || !outcome.approved || !provider.complete) return outcome;
    if (attempt.status !== 'requires_action' && attempt.status !== 'pending') return outcome;
    if (attempt.pending_operation) return outcome;
    const scope = { merchantId: attempt.merchant_id, livemode: attempt.livemode };
    const intent = await findIntent(this.deps.db, scope, attempt.payment_intent_id);
    if (intent?.current_attempt_id !== attempt.id || intent.status === 'canceled') return outcome;
    const captureMethod = attempt.capture_method === 'manual' ? 'manual' : 'automatic';
    return provider.complete(attemptContext(attempt), outcome.providerPaymentId, captureMethod);
  }

  /**
   * The shopper turned back at the provider's approval page (PayPal's cancel_url). Unless the provider
   * shows the payment approved after all (then it is completed, above), the attempt fails as a failed
   * authentication does on Stripe, and the object is canceled there so no late approval can charge.
   */
  async abandonApproval(attempt: PaymentAttemptRow): Promise<Settled> {
    const settled = await this.settleFromProvider(attempt);
    if (settled.attempt.status !== 'requires_action' || !attempt.provider_payment_id) return settled;
    const provider = this.provider(attempt);
    const canceled = await provider.cancel(attemptContext(attempt), attempt.provider_payment_id);
    if (canceled.status !== 'canceled') return this.deps.settlement.apply(attempt.id, canceled);
    return this.deps.settlement.apply(attempt.id, {
      status: 'declined',
      providerPaymentId: attempt.provider_payment_id,
      code: 'payment_intent_authentication_failure',
      message: 'The customer did not approve the payment at the provider.',
    });
  }

  /** Reads the provider's record of the attempt and applies it (webhooks, the return hop). */
  async settleFromProvider(attempt: PaymentAttemptRow): Promise<Settled> {
    if (!attempt.provider_payment_id) return this.recover(attempt);
    const provider = this.provider(attempt);
    const outcome = await this.completeApproved(provider, attempt, await this.read(provider, attempt));
    if (outcome.status === 'unknown' || isUnsettled(attempt)) return this.recover(attempt, outcome);
    return this.deps.settlement.apply(attempt.id, outcome);
  }

  /** One step towards settling an attempt; leaves it scheduled for later when evidence is missing. */
  async recover(attempt: PaymentAttemptRow, known?: PaymentOutcome): Promise<Settled> {
    const provider = this.provider(attempt);
    const context = attemptContext(attempt);
    const age = this.deps.clock.now().getTime() - attempt.created_at.getTime();
    const scope = { merchantId: attempt.merchant_id, livemode: attempt.livemode };

    if (!attempt.provider_payment_id) {
      if (age < IN_FLIGHT_MS) return this.deps.settlement.read(attempt.id);
      // Nothing was ever confirmed: either finish the attempt (same keys) or, past the window, drop it.
      if (age > PROVIDER_KEY_WINDOW_MS || !attempt.payment_method_id) {
        return this.deps.settlement.apply(attempt.id, {
          status: 'no_charge',
          reason: 'unsupported',
          message: 'The attempt never reached the provider.',
        });
      }
      const method = await this.methodOf(scope, attempt, attempt.payment_method_id);
      if (!method) throw new Error(`payment method of attempt ${attempt.id} is gone`);
      return this.deps.flows.run(provider, attempt, method);
    }

    const providerId = attempt.provider_payment_id;
    let outcome =
      known ?? (await this.completeApproved(provider, attempt, await this.read(provider, attempt)));
    if (age < IN_FLIGHT_MS && (outcome.status === 'unknown' || attempt.pending_operation)) {
      if (
        outcome.status === 'unknown' ||
        outcome.status === 'requires_capture' ||
        outcome.status === 'requires_action'
      ) {
        return this.deps.settlement.read(attempt.id);
      }
    }
    const withinWindow = age < PROVIDER_KEY_WINDOW_MS;
    if (attempt.pending_operation === 'capture' && outcome.status === 'requires_capture' && withinWindow) {
      // The capture may never have been sent: the same key replays it if it was.
      outcome = await provider.capture(context, providerId, attempt.capture_amount ?? attempt.amount);
    } else if (
      attempt.pending_operation === 'cancel' &&
      ['requires_capture', 'requires_action'].includes(outcome.status)
    ) {
      outcome = await provider.cancel(context, providerId);
    } else if (outcome.status === 'unknown' && outcome.unconfirmed) {
      if (attempt.phase === 'confirming' && withinWindow && attempt.payment_method_id) {
        // Died between saving the provider object and confirming it: confirm now, same key.
        const method = await this.methodOf(scope, attempt, attempt.payment_method_id);
        if (method) return this.deps.flows.run(provider, attempt, method);
      }
      if (age > UNCONFIRMED_GRACE_MS) {
        // The provider never saw the confirmation. Cancel the object so a late one cannot charge.
        const canceled = await provider.cancel(context, providerId);
        outcome =
          canceled.status === 'canceled'
            ? {
                status: 'no_charge',
                reason: 'unsupported',
                message: 'The provider never received the confirmation; the attempt was canceled there.',
              }
            : canceled;
      }
    }
    return this.deps.settlement.apply(attempt.id, outcome);
  }

  /** The attempt's payment method, a wallet (`wal_...`) included. */
  private async methodOf(
    scope: { merchantId: string; livemode: boolean },
    attempt: PaymentAttemptRow,
    id: string,
  ) {
    const intent = await findIntent(this.deps.db, scope, attempt.payment_intent_id);
    if (!intent) return null;
    return this.deps.flows.resolveMethod(scope, intent, id);
  }

  /** The settlement job's pass: every attempt whose check is due, each on its own. */
  async runDue(limit = 50): Promise<{ checked: number; settled: number }> {
    const due = await dueAttempts(this.deps.db, this.deps.clock.now(), limit);
    let settled = 0;
    for (const attempt of due) {
      try {
        const result = await this.recover(attempt);
        if (!isUnsettled(result.attempt)) settled++;
      } catch (error) {
        this.deps.logger.warn(
          { err: error, attempt: attempt.id },
          'payment attempt could not be settled yet',
        );
        await updateAttempt(this.deps.db, attempt.id, {
          next_check_at: recheckAt(this.deps.clock.now(), attempt.created_at),
        }).catch(() => {});
      }
    }
    return { checked: due.length, settled };
  }

  /**
   * What an interrupted confirm or capture answers once its attempt is settled: the intent, or the
   * AppError the request would have thrown. Throws a plain Error while the outcome is still unknown.
   */
  async answer(handle: IdempotencyHandle): Promise<PaymentIntentObject> {
    const data = handle.recoveryData as ConfirmRecovery | null;
    if (!data?.paymentIntentId) throw interrupted();
    let attempt = data.attemptId ? await findAttempt(this.deps.db, data.attemptId) : undefined;
    if (data.attemptId && !attempt) throw interrupted();
    if (attempt && isUnsettled(attempt)) attempt = (await this.recover(attempt)).attempt;
    if (attempt && isUnsettled(attempt)) throw new Error(`attempt ${attempt.id} is not settled yet`);
    const intent = await findIntent(this.deps.db, handle.scope, data.paymentIntentId);
    if (!intent) throw interrupted();
    return toPaymentIntentObject(attempt ? confirmAnswer({ intent, attempt }) : intent);
  }

  /** The idempotency completer: the answer above as the stored status and body; retried while unknown. */
  async complete(handle: IdempotencyHandle): Promise<{ status: number; body: unknown }> {
    try {
      return { status: 200, body: await this.answer(handle) };
    } catch (error) {
      if (error instanceof AppError) return { status: error.status, body: error.toBody() };
      throw error;
    }
  }
}

/** The stored answer of a request that died before anything could be finished (INTERRUPTED_BODY). */
function interrupted(): AppError {
  const { code, message } = INTERRUPTED_BODY.error;
  return new AppError(500, 'api_error', code, message);
}
