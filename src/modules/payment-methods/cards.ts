// Card number rules checked before anything is stored: digits and length, Luhn, brand by IIN range,
// CVC length by brand, and expiry by the business clock. Errors name the parameter and never quote the
// number. They keep the Idempotency-Key free: nothing was done.
import { AppError } from '../../http/errors.js';
import { luhnValid } from '../../pan.js';

export type Brand = 'visa' | 'mastercard' | 'amex' | 'discover' | 'jcb' | 'diners' | 'unionpay';

interface BrandRule {
  brand: Brand;
  matches(digits: string): boolean;
  lengths: readonly number[];
  cvcLength: number;
  /** Stripe's display_brand names. */
  display: string;
}

const prefix = (digits: string, n: number) => Number(digits.slice(0, n));
const between = (value: number, low: number, high: number) => value >= low && value <= high;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

const BRANDS: readonly BrandRule[] = [
  {
    brand: 'amex',
    matches: (d) => /^3[47]/.test(d),
    lengths: [15],
    cvcLength: 4,
    display: 'american_express',
  },
  {
    brand: 'diners',
    matches: (d) => between(prefix(d, 3), 300, 305) || /^(309|36|38|39)/.test(d),
    lengths: range(14, 19),
    cvcLength: 3,
    display: 'diners_club',
  },
  {
    brand: 'jcb',
    matches: (d) => between(prefix(d, 4), 3528, 3589),
    lengths: range(16, 19),
    cvcLength: 3,
    display: 'jcb',
  },
  { brand: 'visa', matches: (d) => d.startsWith('4'), lengths: [13, 16, 19], cvcLength: 3, display: 'visa' },
  {
    brand: 'mastercard',
    matches: (d) => between(prefix(d, 2), 51, 55) || between(prefix(d, 6), 222100, 272099),
    lengths: [16],
    cvcLength: 3,
    display: 'mastercard',
  },
  {
    brand: 'discover',
    matches: (d) => d.startsWith('6011') || d.startsWith('65') || between(prefix(d, 3), 644, 649),
    lengths: range(16, 19),
    cvcLength: 3,
    display: 'discover',
  },
  {
    brand: 'unionpay',
    matches: (d) => /^(62|81)/.test(d),
    lengths: range(16, 19),
    cvcLength: 3,
    display: 'union_pay',
  },
];

const cardError = (param: string, code: string, message: string) =>
  new AppError(400, 'invalid_request_error', code, message, {
    param,
    shouldRetry: false,
    releasesIdempotencyKey: true,
  });

export function brandOf(digits: string): BrandRule | undefined {
  return BRANDS.find((rule) => rule.matches(digits));
}

export interface CheckedNumber {
  digits: string;
  brand: Brand;
  displayBrand: string;
  cvcLength: number;
}

/** Spaces and dashes (as people type them) are dropped; anything else that is not a digit is refused. */
export function checkNumber(raw: string): CheckedNumber {
  const digits = raw.replace(/[\s-]/g, '');
  if (!/^\d{12,19}$/.test(digits)) {
    throw cardError('card[number]', 'invalid_number', 'The card number is not a valid credit card number.');
  }
  const rule = brandOf(digits);
  if (!luhnValid(digits) || !rule?.lengths.includes(digits.length)) {
    throw cardError('card[number]', 'incorrect_number', 'Your card number is incorrect.');
  }
  return { digits, brand: rule.brand, displayBrand: rule.display, cvcLength: rule.cvcLength };
}

export function checkCvc(cvc: string, brand: CheckedNumber): void {
  if (!/^\d+$/.test(cvc) || cvc.length !== brand.cvcLength) {
    throw cardError(
      'card[cvc]',
      'invalid_cvc',
      `Your card's security code is invalid (${brand.brand} cards have ${brand.cvcLength} digits).`,
    );
  }
}

/** Two-digit years mean 20xx, as on the card. Returns the four-digit year. */
export function checkExpiry(month: number, year: number, now: Date): { month: number; year: number } {
  if (month < 1 || month > 12) {
    throw cardError('card[exp_month]', 'invalid_expiry_month', "Your card's expiration month is invalid.");
  }
  const fullYear = year >= 0 && year < 100 ? 2000 + year : year;
  const thisYear = now.getUTCFullYear();
  if (fullYear < thisYear || fullYear > thisYear + 50) {
    throw cardError('card[exp_year]', 'invalid_expiry_year', "Your card's expiration year is invalid.");
  }
  if (fullYear === thisYear && month < now.getUTCMonth() + 1) {
    throw cardError('card[exp_month]', 'invalid_expiry_month', "Your card's expiration month is invalid.");
  }
  return { month, year: fullYear };
}
