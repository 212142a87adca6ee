// What each payment event posts (DESIGN section 8), as builders of `ledger.post` input, so payments,
// refunds, disputes and wallets post the same entries from their first line. docs/ledger.md has the
// table. Keys come from the caller and derive from (attempt, event), never from a webhook id.
import { type AccountRef, LedgerError, type LedgerKind, type PostInput } from './ledger.js';

interface Common {
  /** The transaction id to use if this key is new (see PostInput.id). */
  id?: string;
  key: string;
  livemode: boolean;
  merchantId: string;
  currency: string;
  source: { type: string; id: string };
  description?: string | null;
}

/** The posting key of an event on a provider attempt: the sync path and the webhook derive the same. */
export const postingKey = (attemptId: string, event: string) => `${attemptId}:${event}`;

function positive(name: string, value: number, allowZero = false): number {
  if (!Number.isSafeInteger(value) || value < 0 || (value === 0 && !allowZero)) {
    throw new LedgerError(
      'ledger_invalid_posting',
      `${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer of minor units (got ${value})`,
      name,
    );
  }
  return value;
}

function build(kind: LedgerKind, p: Common, entries: [AccountRef, number][], availableOn?: Date): PostInput {
  return {
    ...(p.id ? { id: p.id } : {}),
    key: p.key,
    kind,
    source: p.source,
    livemode: p.livemode,
    description: p.description ?? null,
    ...(availableOn ? { availableOn } : {}),
    // A zero leg (no fee, nothing covered) is left out rather than posted as a zero entry.
    entries: entries
      .filter(([, amount]) => amount !== 0)
      .map(([account, amount]) => ({ account, amount, currency: p.currency })),
  };
}

const merchant = (type: 'available' | 'pending' | 'fees' | 'disputes', merchantId: string): AccountRef => ({
  type: `merchant_${type}`,
  merchantId,
});
const clearing = (provider: string): AccountRef => ({ type: 'provider_clearing', provider });
const wallet = (merchantId: string, customerId: string): AccountRef => ({
  type: 'customer_wallet',
  merchantId,
  customerId,
});
const walletHold = (merchantId: string, customerId: string): AccountRef => ({
  type: 'customer_wallet_hold',
  merchantId,
  customerId,
});

/** A succeeded charge: the provider owes us the amount; the merchant's share waits in pending. */
export function chargeSucceeded(
  p: Common & { provider: string; amount: number; fee: number; availableOn?: Date },
) {
  const amount = positive('amount', p.amount);
  const fee = positive('fee', p.fee, true);
  if (fee > amount)
    throw new LedgerError('ledger_invalid_posting', `fee ${fee} exceeds amount ${amount}`, 'fee');
  return build(
    'charge',
    p,
    [
      [clearing(p.provider), -amount],
      [merchant('pending', p.merchantId), amount - fee],
      [merchant('fees', p.merchantId), fee],
    ],
    p.availableOn,
  );
}

/** A refund reverses a charge out of the merchant's available balance (which may go negative). */
export function refund(p: Common & { provider: string; amount: number; feeRefunded?: number }) {
  const amount = positive('amount', p.amount);
  const feeRefunded = positive('fee_refunded', p.feeRefunded ?? 0, true);
  return build('refund', p, [
    [merchant('available', p.merchantId), -(amount - feeRefunded)],
    [merchant('fees', p.merchantId), -feeRefunded],
    [clearing(p.provider), amount],
  ]);
}

/** A refund the provider failed after it was posted: the money comes back to the merchant's available. */
export function refundFailed(p: Common & { provider: string; amount: number; feeRefunded?: number }) {
  const amount = positive('amount', p.amount);
  const feeRefunded = positive('fee_refunded', p.feeRefunded ?? 0, true);
  return build('refund_failure', p, [
    [clearing(p.provider), -amount],
    [merchant('fees', p.merchantId), feeRefunded],
    [merchant('available', p.merchantId), amount - feeRefunded],
  ]);
}

/** A dispute opened: funds withdrawn from the merchant into `disputes`, plus the dispute fee. */
export function disputeOpened(p: Common & { amount: number; fee: number }) {
  const amount = positive('amount', p.amount);
  const fee = positive('fee', p.fee, true);
  return build('dispute', p, [
    [merchant('available', p.merchantId), -(amount + fee)],
    [merchant('disputes', p.merchantId), amount],
    [merchant('fees', p.merchantId), fee],
  ]);
}

/** A dispute won: funds reinstated to the merchant. */
export function disputeWon(p: Common & { amount: number }) {
  const amount = positive('amount', p.amount);
  return build('dispute_reversal', p, [
    [merchant('disputes', p.merchantId), -amount],
    [merchant('available', p.merchantId), amount],
  ]);
}

/** A dispute lost: the withdrawn funds go back through the provider to the cardholder. */
export function disputeLost(p: Common & { provider: string; amount: number }) {
  const amount = positive('amount', p.amount);
  return build('dispute_loss', p, [
    [merchant('disputes', p.merchantId), -amount],
    [clearing(p.provider), amount],
  ]);
}

/** A card top-up of a customer's wallet. */
export function walletTopUp(p: Common & { provider: string; customerId: string; amount: number }) {
  const amount = positive('amount', p.amount);
  return build('wallet_topup', p, [
    [clearing(p.provider), -amount],
    [wallet(p.merchantId, p.customerId), amount],
  ]);
}

/** A payment from a wallet to its merchant: like a charge, into pending, less the fee. */
export function walletPayment(
  p: Common & { customerId: string; amount: number; fee: number; availableOn?: Date },
) {
  const amount = positive('amount', p.amount);
  const fee = positive('fee', p.fee, true);
  if (fee > amount)
    throw new LedgerError('ledger_invalid_posting', `fee ${fee} exceeds amount ${amount}`, 'fee');
  return build(
    'payment',
    p,
    [
      [wallet(p.merchantId, p.customerId), -amount],
      [merchant('pending', p.merchantId), amount - fee],
      [merchant('fees', p.merchantId), fee],
    ],
    p.availableOn,
  );
}

/**
 * A disputed wallet top-up: the wallet gives back what it still holds (`walletBalance`, read under
 * `ledger.lockedBalance`), and the part already spent is the platform's loss. Wallets never go negative.
 */
export function walletTopUpDisputed(
  p: Common & { customerId: string; amount: number; walletBalance: number; fee?: number },
) {
  const amount = positive('amount', p.amount);
  const covered = Math.min(amount, positive('wallet_balance', p.walletBalance, true));
  const fee = positive('fee', p.fee ?? 0, true);
  return build('wallet_topup_dispute', p, [
    [wallet(p.merchantId, p.customerId), -covered],
    [{ type: 'losses' }, -(amount - covered)],
    [merchant('disputes', p.merchantId), amount],
    // The provider's dispute fee is the merchant's, as for any other charge.
    [merchant('available', p.merchantId), -fee],
    [merchant('fees', p.merchantId), fee],
  ]);
}

/**
 * A disputed wallet top-up won: what was taken from the wallet goes back to it (`covered`, as the
 * withdrawal recorded it) and the part the platform had carried comes back to the losses account.
 */
export function walletTopUpDisputeWon(p: Common & { customerId: string; amount: number; covered: number }) {
  const amount = positive('amount', p.amount);
  const covered = Math.min(amount, positive('covered', p.covered, true));
  return build('wallet_topup_dispute_reversal', p, [
    [merchant('disputes', p.merchantId), -amount],
    [wallet(p.merchantId, p.customerId), covered],
    [{ type: 'losses' }, amount - covered],
  ]);
}

/** A direct credit of a wallet (a key with the wallets scope): money entering the system. */
export function walletFunded(p: Common & { customerId: string; amount: number }) {
  const amount = positive('amount', p.amount);
  return build('wallet_funding', p, [
    [{ type: 'external' }, -amount],
    [wallet(p.merchantId, p.customerId), amount],
  ]);
}

/**
 * An uncaptured wallet payment reserves its amount: wallet -> hold. The wallet may not go negative, so the
 * ledger's lock and check on it are the balance check of the authorization.
 */
export function walletHeld(p: Common & { customerId: string; amount: number }) {
  const amount = positive('amount', p.amount);
  return build('wallet_hold', p, [
    [wallet(p.merchantId, p.customerId), -amount],
    [walletHold(p.merchantId, p.customerId), amount],
  ]);
}

/** A canceled authorization gives its hold back to the wallet. */
export function walletReleased(p: Common & { customerId: string; amount: number }) {
  const amount = positive('amount', p.amount);
  return build('wallet_release', p, [
    [walletHold(p.merchantId, p.customerId), -amount],
    [wallet(p.merchantId, p.customerId), amount],
  ]);
}

/**
 * Capture of a held wallet payment: the captured part goes to the merchant (less the fee), the rest of
 * the hold back to the wallet, in one transaction so the hold is emptied exactly once.
 */
export function walletCaptured(
  p: Common & { customerId: string; held: number; amount: number; fee: number; availableOn?: Date },
) {
  const held = positive('held', p.held);
  const amount = positive('amount', p.amount);
  const fee = positive('fee', p.fee, true);
  if (amount > held)
    throw new LedgerError('ledger_invalid_posting', `capture ${amount} exceeds hold ${held}`, 'amount');
  if (fee > amount)
    throw new LedgerError('ledger_invalid_posting', `fee ${fee} exceeds amount ${amount}`, 'fee');
  return build(
    'payment',
    p,
    [
      [walletHold(p.merchantId, p.customerId), -held],
      [wallet(p.merchantId, p.customerId), held - amount],
      [merchant('pending', p.merchantId), amount - fee],
      [merchant('fees', p.merchantId), fee],
    ],
    p.availableOn,
  );
}

/** A refund of a wallet payment: out of the merchant's available balance, back into the wallet. */
export function walletRefund(p: Common & { customerId: string; amount: number }) {
  const amount = positive('amount', p.amount);
  return build('payment_refund', p, [
    [merchant('available', p.merchantId), -amount],
    [wallet(p.merchantId, p.customerId), amount],
  ]);
}
