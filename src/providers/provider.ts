// The one small interface every payment provider sits behind (Stripe, PayPal, the wallet). Adapters turn
// the provider's wire format into these typed outcomes at their edge; the payments module never sees a
// provider's own objects or errors. DESIGN section 6: an attempt creates the provider object first and
// saves its id, then confirms with an idempotency key derived from (livemode, attempt, operation).
import type { ProviderName } from '../money/currencies.js';

export type { ProviderName };

/** Card data revealed from the vault for the one call that needs it; never stored or logged by adapters. */
export interface CardData {
  number: string;
  expMonth: number;
  expYear: number;
  cvc?: string | undefined;
}

export type PaymentSource =
  | { kind: 'card'; card: CardData }
  /** A provider-side payment method id (e.g. Stripe's `pm_...`) or a wallet's customer. */
  | { kind: 'provider_token'; token: string }
  | { kind: 'redirect_wallet' };

export interface AttemptContext {
  /** Our attempt id; provider idempotency keys are `${livemode}:${attemptId}:${operation}`. */
  attemptId: string;
  livemode: boolean;
  merchantId: string;
  paymentIntentId: string;
  /**
   * Ask the issuer for 3-D Secure whatever the card's own rules (a fraud rule's `request_three_d_secure`
   * or the merchant's `payment_method_options[card][request_three_d_secure]=any`): Stripe's
   * `request_three_d_secure: 'any'`, PayPal's `SCA_ALWAYS`.
   */
  requestThreeDSecure?: boolean | undefined;
}

export interface CreatePaymentRequest extends AttemptContext {
  amount: number;
  currency: string;
  captureMethod: 'automatic' | 'manual';
  description?: string | null | undefined;
  /** Our return hop (PUBLIC_URL/return/...), never the merchant's URL directly. */
  returnUrl?: string | undefined;
}

/** Why a call failed in a way that proves no money moved: the only failures that allow fallback. */
export type NoChargeReason =
  | 'connection_refused'
  | 'dns'
  | 'tls'
  | 'circuit_open'
  | 'authentication'
  | 'rate_limited'
  | 'invalid_request'
  | 'unsupported';

export interface ChargeFacts {
  /** The provider's charge/capture id. */
  providerChargeId: string;
  amount: number;
  amountCaptured: number;
  /** The provider's fee in minor units, when it reports one at this point. */
  fee?: number | undefined;
  cardBrand?: string | undefined;
  cardLast4?: string | undefined;
}

export type PaymentOutcome =
  | { status: 'succeeded'; providerPaymentId: string; charge: ChargeFacts }
  | { status: 'requires_capture'; providerPaymentId: string; charge: ChargeFacts }
  | {
      status: 'requires_action';
      providerPaymentId: string;
      redirectUrl: string;
      /** The shopper approved at the provider; `complete` must finish it (PayPal: capture the order). */
      approved?: boolean | undefined;
    }
  | {
      status: 'declined';
      providerPaymentId: string;
      code: string;
      declineCode?: string | undefined;
      message: string;
      charge?: ChargeFacts | undefined;
    }
  | { status: 'canceled'; providerPaymentId: string }
  /** Before any charge could happen; `retryAfterMs` from the provider's Retry-After on 429. */
  | { status: 'no_charge'; reason: NoChargeReason; message: string; retryAfterMs?: number | undefined }
  /** Timeout, reset, or 5xx after the request was sent: settled only by evidence (invariant 3). */
  | {
      status: 'unknown';
      providerPaymentId?: string | undefined;
      message: string;
      /** The provider object exists but was never confirmed: no charge yet, and none while it stays so. */
      unconfirmed?: boolean | undefined;
    };

export type RefundOutcome =
  | { status: 'succeeded' | 'pending'; providerRefundId: string }
  | { status: 'failed'; providerRefundId?: string | undefined; code: string; message: string }
  | { status: 'no_charge'; reason: NoChargeReason; message: string }
  | { status: 'unknown'; message: string };

/** Dispute statuses in Stripe's words; PayPal's are mapped onto them. `warning_*` are inquiries. */
export type ProviderDisputeStatus =
  | 'warning_needs_response'
  | 'warning_under_review'
  | 'warning_closed'
  | 'needs_response'
  | 'under_review'
  | 'won'
  | 'lost';

/** A provider's dispute as its API or webhook shows it, mapped to one shape. */
export interface ProviderDispute {
  providerDisputeId: string;
  /** The provider's charge (Stripe) or capture (PayPal) id. */
  providerChargeId: string;
  amount: number;
  currency: string;
  status: ProviderDisputeStatus;
  reason: string | null;
  /** The dispute fee taken with the withdrawal (0 if none reported). */
  fee: number;
  /** The last moment evidence is accepted; null when the provider names none. */
  dueBy: Date | null;
}

/** Why a dispute action failed: the provider refused it (closed, past due) or could not be reached. */
export class DisputeActionError extends Error {
  constructor(
    readonly kind: 'refused' | 'unavailable',
    message: string,
  ) {
    super(message);
    this.name = 'DisputeActionError';
  }
}

/** What providers that open disputes (Stripe, PayPal; not the wallet) let a merchant do about one. */
/** An evidence file as a provider receives it: the field it answers and its bytes. */
export interface EvidenceFile {
  field: string;
  id: string;
  filename: string;
  /** pdf, png or jpg. */
  type: string;
  contents: Uint8Array;
}

export interface DisputeOperations {
  /**
   * Saves evidence and, when `submit`, submits it for a decision. A provider that keeps uploads apart
   * (`uploadEvidenceFile`) gets its own file ids in the file fields; one that takes files with the
   * evidence itself gets them in `files`.
   */
  submitDisputeEvidence(
    providerDisputeId: string,
    evidence: Record<string, string>,
    submit: boolean,
    files: readonly EvidenceFile[],
  ): Promise<ProviderDispute>;
  /** Uploads one evidence file and answers the provider's id for it (Stripe's `file_...`). */
  uploadEvidenceFile?(file: EvidenceFile): Promise<string>;
  /** Accepts the dispute (concedes a chargeback, closes an inquiry). */
  closeDispute(providerDisputeId: string): Promise<ProviderDispute>;
  /**
   * The provider payment (Stripe's intent, PayPal's order) a charge or capture belongs to, read from the
   * provider: a dispute can name a charge we have not recorded yet. Undefined when it does not exist.
   */
  paymentOfCharge(providerChargeId: string): Promise<string | undefined>;
}

/** A provider event, verified and mapped, for the inbound webhook inbox. */
export interface ProviderEvent {
  providerEventId: string;
  type: string;
  providerPaymentId?: string | undefined;
  occurredAt: Date;
  payload: unknown;
}

export interface PaymentProvider {
  readonly name: ProviderName;
  /** Creates the provider-side object (unconfirmed), so its id can be saved before any charge. */
  createPayment(
    request: CreatePaymentRequest,
  ): Promise<{ providerPaymentId: string } | Extract<PaymentOutcome, { status: 'no_charge' | 'unknown' }>>;
  confirm(
    context: AttemptContext,
    providerPaymentId: string,
    source: PaymentSource,
    returnUrl?: string,
  ): Promise<PaymentOutcome>;
  capture(context: AttemptContext, providerPaymentId: string, amount: number): Promise<PaymentOutcome>;
  cancel(context: AttemptContext, providerPaymentId: string): Promise<PaymentOutcome>;
  /** Reads the provider's truth about a payment: how unknown outcomes are settled. */
  retrieve(context: AttemptContext, providerPaymentId: string): Promise<PaymentOutcome>;
  refund(
    context: AttemptContext & { refundId: string },
    providerPaymentId: string,
    amount: number,
  ): Promise<RefundOutcome>;
  /**
   * Finishes a payment the shopper approved at the provider (`requires_action` with `approved: true`):
   * PayPal captures or authorizes the approved order, keyed {mode}:{attempt}:complete. Called only for
   * an intent's live attempt. Providers whose redirects finish on their own (Stripe's 3DS) lack it.
   */
  complete?(
    context: AttemptContext,
    providerPaymentId: string,
    captureMethod: 'automatic' | 'manual',
  ): Promise<PaymentOutcome>;
  /**
   * Verifies the raw body (against configured secrets, or a provider's certificate, which may need
   * fetching) before anything is written; throws, or rejects, when it does not verify.
   */
  parseWebhook(
    rawBody: Buffer,
    headers: Record<string, string | string[] | undefined>,
  ): ProviderEvent | Promise<ProviderEvent>;
}

/** The provider idempotency key of DESIGN section 6: merchants sharing an account never collide. */
export function providerIdempotencyKey(context: AttemptContext, operation: string): string {
  return `${context.livemode ? 'live' : 'test'}:${context.attemptId}:${operation}`;
}

/** A webhook that does not verify (signature, certificate, age, body): answered 400, nothing written. */
export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

export function handlesDisputes<P extends object>(provider: P): provider is P & DisputeOperations {
  const candidate = provider as Partial<DisputeOperations>;
  return (
    typeof candidate.submitDisputeEvidence === 'function' && typeof candidate.closeDispute === 'function'
  );
}

/**
 * One payment as the provider's own listing shows it (Stripe's charge, PayPal's capture row), for
 * reconciliation. Amounts in minor units; `status` mapped to four words, an unrecognised one to `pending`.
 */
export interface ProviderRecord {
  /** The object our attempt saved: Stripe's PaymentIntent, PayPal's order. */
  providerPaymentId: string;
  /** Stripe's charge, PayPal's capture. */
  providerChargeId: string;
  status: 'succeeded' | 'authorized' | 'failed' | 'pending';
  amount: number;
  /** Null when the listing does not say (PayPal's search has refunds as rows of their own). */
  amountRefunded: number | null;
  disputed: boolean | null;
  currency: string;
  createdAt: Date;
  /** What the provider object says it was made for (our metadata), when it says so. */
  claimedPaymentIntentId: string | null;
  claimedMerchantId: string | null;
}

/** Providers whose records can be listed for a time window, page by page (bounded memory). */
export interface ReconciliationSource {
  records(from: Date, to: Date): AsyncIterable<ProviderRecord[]>;
}

export function listsRecords<P extends object>(provider: P): provider is P & ReconciliationSource {
  return typeof (provider as Partial<ReconciliationSource>).records === 'function';
}
