// The wallet's side of a settlement (see src/providers/wallet/wallet.provider.ts for why the wallet
// provider's calls move no money): the ledger postings a wallet outcome makes, inside the settlement's
// transaction. The wallet account may not go negative, so ledger_post() locks it and checks it; a
// refusal (`balance_insufficient`) writes nothing and the settlement records a decline instead.
// Also the card top-up of a wallet: a payment intent marked `wallet_topup` credits the wallet rather
// than the merchant when it succeeds, under the same posting key a charge would use (once between the
// synchronous answer and the webhook).
import type { Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Scope } from '../../http/expand.js';
import type { PaymentOutcome } from '../../providers/provider.js';
import { walletPostingKeys } from '../../providers/wallet/wallet.provider.js';
import { LedgerError, type PostedTransaction, type PostInput } from '../ledger/ledger.js';
import {
  walletCaptured,
  walletHeld,
  walletPayment,
  walletReleased,
  walletTopUp,
} from '../ledger/ledger.postings.js';
import type { LedgerService } from '../ledger/ledger.service.js';
import type { PaymentAttemptRow, PaymentIntentRow } from './payments.table.js';
import type { RequestRef } from './settlement.js';

/** What the wallets module does when a top-up succeeded (the `wallet.funded` event, same transaction). */
export interface WalletTopUpListener {
  recordTopUp(
    trx: Transaction<Database>,
    scope: Scope,
    walletId: string,
    amount: number,
    request?: RequestRef,
  ): Promise<void>;
}

export const isWalletAttempt = (attempt: Pick<PaymentAttemptRow, 'provider'>) =>
  attempt.provider === 'wallet';

/** The wallet a top-up intent credits, from its stored extras. */
export function topUpWalletOf(intent: PaymentIntentRow): string | undefined {
  const value = (intent.extra as Record<string, unknown> | null)?.wallet_topup;
  return typeof value === 'string' ? value : undefined;
}

type Declined = Extract<PaymentOutcome, { status: 'declined' }>;

export class WalletPostings {
  constructor(
    private readonly ledger: LedgerService,
    private readonly trx: Transaction<Database>,
    private readonly attempt: PaymentAttemptRow,
    private readonly intent: PaymentIntentRow,
  ) {}

  private common(id?: string) {
    const customerId = this.intent.customer_id;
    if (!customerId) throw new Error(`wallet attempt ${this.attempt.id} has no customer`);
    return {
      ...(id ? { id } : {}),
      livemode: this.attempt.livemode,
      merchantId: this.attempt.merchant_id,
      currency: this.attempt.currency,
      customerId,
      description: this.intent.description,
      source: { type: 'payment_intent', id: this.intent.id },
    };
  }

  /** Posts, or answers the decline a refused posting means (nothing was written then). */
  private async post(input: PostInput): Promise<PostedTransaction | Declined> {
    try {
      return await this.ledger.post(this.trx, input);
    } catch (error) {
      if (error instanceof LedgerError && error.reason === 'balance_insufficient') return this.insufficient();
      throw error;
    }
  }

  private insufficient(): Declined {
    return {
      status: 'declined',
      providerPaymentId: this.attempt.provider_payment_id ?? `wpay_${this.attempt.id}`,
      code: 'insufficient_funds',
      declineCode: 'insufficient_funds',
      message: `The customer's ${this.attempt.currency.toUpperCase()} wallet has insufficient available funds for this payment.`,
      charge: { providerChargeId: `wch_${this.attempt.id}`, amount: this.attempt.amount, amountCaptured: 0 },
    };
  }

  /** Automatic capture: wallet -> merchant pending at once. */
  pay(transactionId: string, amount: number) {
    return this.post(
      walletPayment({
        ...this.common(transactionId),
        key: walletPostingKeys(this.attempt.id).payment,
        amount,
        fee: 0,
      }),
    );
  }

  /** Manual capture, at authorization: the amount is moved to the hold account (reserved). */
  hold() {
    return this.post(
      walletHeld({
        ...this.common(),
        key: walletPostingKeys(this.attempt.id).hold,
        amount: this.attempt.amount,
      }),
    );
  }

  /** Capture of a hold: the captured part to the merchant, the rest back to the wallet. */
  capture(transactionId: string, amount: number) {
    return this.ledger.post(
      this.trx,
      walletCaptured({
        ...this.common(transactionId),
        key: walletPostingKeys(this.attempt.id).payment,
        held: this.attempt.amount,
        amount,
        fee: 0,
      }),
    );
  }

  /** Cancel of a hold: all of it back to the wallet. */
  release() {
    return this.ledger.post(
      this.trx,
      walletReleased({
        ...this.common(),
        key: walletPostingKeys(this.attempt.id).release,
        amount: this.attempt.amount,
      }),
    );
  }

  /** A card (or PayPal) payment that tops a wallet up: clearing -> wallet, not merchant revenue. */
  topUp(transactionId: string, amount: number) {
    return this.ledger.post(
      this.trx,
      walletTopUp({
        ...this.common(transactionId),
        key: walletPostingKeys(this.attempt.id).payment,
        provider: this.attempt.provider,
        amount,
      }),
    );
  }
}
