// Owns the sandbox cards (DESIGN section 6, Stripe's test-mode card list): which number does what,
// Stripe's validation of raw card details, and the `pm_card_*` test payment method ids. The emulator
// keeps no card number: a payment method holds its scenario, brand, last 4 and a fingerprint.
import { createHmac } from 'node:crypto';
import { cardError } from './errors.js';
import type { CardDetails, CardScenario } from './records.js';

const SCENARIOS: Record<string, CardScenario> = {
  '4242424242424242': 'succeed',
  '4000056655665556': 'succeed',
  '5555555555554444': 'succeed',
  '2223003122003222': 'succeed',
  '5200828282828210': 'succeed',
  '5105105105105100': 'succeed',
  '378282246310005': 'succeed',
  '371449635398431': 'succeed',
  '6011111111111117': 'succeed',
  '6011000990139424': 'succeed',
  '3056930009020004': 'succeed',
  '36227206271667': 'succeed',
  '3566002020360505': 'succeed',
  '6200000000000005': 'succeed',
  '4000000000000002': 'decline',
  '4000000000009995': 'insufficient_funds',
  '4000002500003155': 'three_ds',
  '4000002760003184': 'three_ds',
  '4000000000003220': 'three_ds',
  '4000000000000119': 'processing_error',
  '4000000000000259': 'dispute',
  '4000000000001976': 'inquiry',
  '4000000000000069': 'expired_card',
  '4000000000000127': 'incorrect_cvc',
  '4000000000009987': 'lost_card',
  '4000000000009979': 'stolen_card',
  '4100000000000019': 'fraudulent',
  '4000000000005126': 'refund_fail',
};

const DEBIT = new Set(['4000056655665556', '5200828282828210']);

/** Stripe's test payment method ids and the card each one stands for. */
export const TEST_PAYMENT_METHODS: Record<string, string> = {
  pm_card_visa: '4242424242424242',
  pm_card_visa_debit: '4000056655665556',
  pm_card_mastercard: '5555555555554444',
  pm_card_amex: '378282246310005',
  pm_card_discover: '6011111111111117',
  pm_card_chargeDeclined: '4000000000000002',
  pm_card_chargeDeclinedInsufficientFunds: '4000000000009995',
  pm_card_chargeDeclinedExpiredCard: '4000000000000069',
  pm_card_chargeDeclinedIncorrectCvc: '4000000000000127',
  pm_card_chargeDeclinedProcessingError: '4000000000000119',
  pm_card_chargeDeclinedLostCard: '4000000000009987',
  pm_card_chargeDeclinedStolenCard: '4000000000009979',
  pm_card_chargeDeclinedFraudulent: '4100000000000019',
  pm_card_authenticationRequired: '4000002500003155',
  pm_card_threeDSecure2Required: '4000000000003220',
  pm_card_createDispute: '4000000000000259',
  pm_card_createDisputeInquiry: '4000000000001976',
  pm_card_refundFail: '4000000000005126',
};

export function luhnValid(number: string): boolean {
  let sum = 0;
  for (let i = 0; i < number.length; i++) {
    let digit = number.charCodeAt(number.length - 1 - i) - 48;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

export function brandOf(number: string): string {
  if (number.startsWith('4')) return 'visa';
  const two = Number(number.slice(0, 2));
  const four = Number(number.slice(0, 4));
  if ((two >= 51 && two <= 55) || (four >= 2221 && four <= 2720)) return 'mastercard';
  if (two === 34 || two === 37) return 'amex';
  if (number.startsWith('6011') || number.startsWith('65') || (four >= 6440 && four <= 6499))
    return 'discover';
  if (two === 36 || two === 30 || two === 38) return 'diners';
  if (two === 35) return 'jcb';
  if (two === 62) return 'unionpay';
  return 'unknown';
}

// A fixed key: a fingerprint only has to be stable for one number across restarts, not secret.
const FINGERPRINT_KEY = 'stripe-emulator-fingerprint';
const fingerprints = new Map<string, string>();

function fingerprintOf(number: string): string {
  let fingerprint = fingerprints.get(number);
  if (!fingerprint) {
    fingerprint = createHmac('sha256', FINGERPRINT_KEY).update(number).digest('base64url').slice(0, 16);
    if (fingerprints.size < 10_000) fingerprints.set(number, fingerprint);
  }
  return fingerprint;
}

export interface RawCard {
  number: string;
  exp_month: number;
  exp_year: number;
  cvc?: string;
}

/** Validates raw card details as Stripe does at payment method creation (402 card errors). */
export function checkCard(card: RawCard, today: Date): { details: CardDetails; scenario: CardScenario } {
  const number = card.number.replace(/[\s-]/g, '');
  if (!/^\d{12,19}$/.test(number)) {
    throw cardError('Your card number is invalid.', 'invalid_number', { param: 'number' }, false);
  }
  if (!luhnValid(number)) {
    throw cardError('Your card number is incorrect.', 'incorrect_number', { param: 'number' }, false);
  }
  if (card.exp_month < 1 || card.exp_month > 12) {
    throw cardError(
      "Your card's expiration month is invalid.",
      'invalid_expiry_month',
      { param: 'exp_month' },
      false,
    );
  }
  const year = today.getUTCFullYear();
  if (card.exp_year < year || card.exp_year > year + 50) {
    const message =
      card.exp_year < year
        ? "Your card's expiration year is in the past."
        : "Your card's expiration year is invalid.";
    throw cardError(message, 'invalid_expiry_year', { param: 'exp_year' }, false);
  }
  if (card.exp_year === year && card.exp_month < today.getUTCMonth() + 1) {
    throw cardError(
      "Your card's expiration date is in the past.",
      'invalid_expiry_month',
      { param: 'exp_month' },
      false,
    );
  }
  const brand = brandOf(number);
  if (card.cvc !== undefined && !(brand === 'amex' ? /^\d{4}$/ : /^\d{3}$/).test(card.cvc)) {
    throw cardError("Your card's security code is invalid.", 'invalid_cvc', { param: 'cvc' }, false);
  }
  return {
    scenario: SCENARIOS[number] ?? 'live_card',
    details: {
      brand,
      last4: number.slice(-4),
      exp_month: card.exp_month,
      exp_year: card.exp_year,
      fingerprint: fingerprintOf(number),
      funding: DEBIT.has(number) ? 'debit' : 'credit',
      country: 'US',
      cvc_check: card.cvc === undefined ? 'unchecked' : 'pass',
    },
  };
}
