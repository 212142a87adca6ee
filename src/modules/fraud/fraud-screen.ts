// What the payments module hands the fraud rules for one confirmation, and what it takes back: the
// signals of the payment (card fingerprint, email, shopper IP, customer, amount), and the decision's
// effect on the attempt (ask for 3-D Secure, hold the authorization for review) and on its answer.
import type { Insertable, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Scope } from '../../http/expand.js';
import type { ResolvedPaymentMethod } from '../payment-methods/resolved.js';
import type { PaymentIntentRow } from '../payments/payments.table.js';
import type { FraudSignals } from './fraud.evaluate.js';
import type { FraudDecision } from './fraud.service.js';
import type { FraudChecksTable } from './fraud.table.js';
import { shopperIpOf } from './shopper-ip.js';

/** The part of the fraud module the payment flows call (FraudService). */
export interface FraudScreening {
  screen(signals: Omit<FraudSignals, 'location'>): Promise<FraudDecision | undefined>;
  record(trx: Transaction<Database>, decision: FraudDecision, attemptId: string | null): Promise<void>;
  /** The row `record` would insert, for a caller inserting it within its own statement. */
  checkRow?(decision: FraudDecision, attemptId: string | null): Insertable<FraudChecksTable> | undefined;
}

export function fraudSignalsOf(
  scope: Scope,
  intent: PaymentIntentRow,
  method: ResolvedPaymentMethod,
  input: { shopper_ip?: string | null | undefined },
): Omit<FraudSignals, 'location'> {
  const extra = intent.extra as { receipt_email?: unknown };
  const billingEmail = (method.object as { billing_details?: { email?: unknown } }).billing_details?.email;
  const email = [billingEmail, extra.receipt_email].find(
    (value): value is string => typeof value === 'string' && value !== '',
  );
  return {
    scope,
    paymentIntentId: intent.id,
    amount: intent.amount,
    currency: intent.currency,
    customerId: intent.customer_id ?? method.customer ?? null,
    cardFingerprint: method.card?.fingerprint ?? null,
    email: email?.toLowerCase() ?? null,
    shopperIp: shopperIpOf(intent, input) ?? null,
  };
}

/** Stripe's answer to a payment a rule blocked: a card decline, `merchant_blacklist` for a blocklist hit. */
export function blockedDeclineCode(decision: FraudDecision): string {
  const byBlocklist = decision.triggered.some((rule) => rule.id === 'blocklist' && rule.action === 'block');
  return byBlocklist ? 'merchant_blacklist' : 'fraudulent';
}

/** Whether the merchant itself asked for 3-D Secure (`payment_method_options[card][request_three_d_secure]=any`). */
export function merchantRequestsThreeDSecure(options: unknown): boolean {
  const card = (options as { card?: { request_three_d_secure?: unknown } } | undefined)?.card;
  return card?.request_three_d_secure === 'any';
}
