// The wallet as a provider behind the one provider interface, so routing, circuit controls, attempts,
// idempotency, capture, cancel, refunds and recovery treat a wallet payment exactly as a card payment.
//
// Why its calls move no money: the interface is built for an external provider (create, then confirm
// with idempotency keys, no database transaction open across a call: invariant 4). A wallet is our own
// ledger, and its balance check must be atomic with the outcome it decides: 50 concurrent payments
// against one wallet may never overdraw it, and a refusal must change nothing. So this adapter only
// answers what the operation would be; the payment settlement (src/modules/payments/settlement.ts,
// `WalletStep`) then performs it inside the one transaction that records the outcome: the ledger locks
// the customer's wallet account (ledger_post's FOR UPDATE, ascending id order), checks the balance and
// posts the hold or payment there, or refuses, in which case the settlement records a decline
// (402 insufficient_funds) and nothing is posted. The check and the hold are one database transaction,
// with the attempt, intent, charge and events.
//
// The provider object ids carry the capture method (`wauth_` holds, `wpay_` pays at once), since the
// interface gives confirm no capture method. `retrieve` reads the ledger's posting keys, the wallet's
// own record of what happened, so recovery settles an interrupted attempt from evidence.
import type {
  AttemptContext,
  CreatePaymentRequest,
  PaymentOutcome,
  PaymentProvider,
  PaymentSource,
  RefundOutcome,
} from '../provider.js';
import { WebhookVerificationError } from '../provider.js';

/** Ledger posting keys of a wallet attempt: the settlement posts them, `retrieve` reads them back. */
export const walletPostingKeys = (attemptId: string) => ({
  payment: `${attemptId}:charge`,
  hold: `${attemptId}:wallet_hold`,
  release: `${attemptId}:wallet_release`,
});

export class WalletProvider implements PaymentProvider {
  readonly name = 'wallet' as const;

  /** `posted(key)`: whether the ledger holds a transaction with this key. */
  constructor(private readonly posted: (key: string) => Promise<boolean>) {}

  async createPayment(request: CreatePaymentRequest) {
    const prefix = request.captureMethod === 'manual' ? 'wauth' : 'wpay';
    return { providerPaymentId: `${prefix}_${request.attemptId}` };
  }

  async confirm(
    context: AttemptContext,
    providerPaymentId: string,
    source: PaymentSource,
  ): Promise<PaymentOutcome> {
    if (source.kind !== 'provider_token') {
      return {
        status: 'no_charge',
        reason: 'unsupported',
        message: 'The wallet pays from a customer wallet only.',
      };
    }
    // Amounts are the attempt's; the settlement reads them there.
    const charge = { providerChargeId: this.chargeId(context), amount: 0, amountCaptured: 0 };
    return providerPaymentId.startsWith('wauth_')
      ? { status: 'requires_capture', providerPaymentId, charge }
      : { status: 'succeeded', providerPaymentId, charge };
  }

  async capture(context: AttemptContext, providerPaymentId: string, amount: number): Promise<PaymentOutcome> {
    return {
      status: 'succeeded',
      providerPaymentId,
      charge: { providerChargeId: this.chargeId(context), amount, amountCaptured: amount },
    };
  }

  async cancel(_context: AttemptContext, providerPaymentId: string): Promise<PaymentOutcome> {
    return { status: 'canceled', providerPaymentId };
  }

  async retrieve(context: AttemptContext, providerPaymentId: string): Promise<PaymentOutcome> {
    const keys = walletPostingKeys(context.attemptId);
    const charge = { providerChargeId: this.chargeId(context), amount: 0, amountCaptured: 0 };
    if (await this.posted(keys.payment)) return { status: 'succeeded', providerPaymentId, charge };
    if (await this.posted(keys.release)) return { status: 'canceled', providerPaymentId };
    if (await this.posted(keys.hold)) return { status: 'requires_capture', providerPaymentId, charge };
    // Nothing posted: the confirmation never settled, and confirming again can only do it once.
    return { status: 'unknown', providerPaymentId, unconfirmed: true, message: 'not confirmed yet' };
  }

  async refund(context: AttemptContext & { refundId: string }): Promise<RefundOutcome> {
    // Posted by the refund settlement (merchant available -> wallet), keyed by attempt and refund.
    return { status: 'succeeded', providerRefundId: `wre_${context.refundId}` };
  }

  parseWebhook(): never {
    throw new WebhookVerificationError('the wallet provider sends no webhooks');
  }

  private chargeId(context: AttemptContext): string {
    return `wch_${context.attemptId}`;
  }
}
