// Owns Stripe's per-currency amount rules: decimals, minimum charge amounts, the 8-digit maximum and
// the multiple-of-10 rule for 3-decimal currencies. Amounts stay integers; only messages format them.
import { invalidRequest } from './errors.js';

const ZERO_DECIMAL = new Set([
  'bif',
  'clp',
  'djf',
  'gnf',
  'jpy',
  'kmf',
  'krw',
  'mga',
  'pyg',
  'rwf',
  'ugx',
  'vnd',
  'vuv',
  'xaf',
  'xof',
  'xpf',
]);
const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

/** Stripe's minimum charge amounts, in minor units; currencies not listed use 50. */
const MINIMUM: Record<string, number> = {
  usd: 50,
  aed: 200,
  aud: 50,
  bgn: 100,
  brl: 50,
  cad: 50,
  chf: 50,
  czk: 1500,
  dkk: 250,
  eur: 50,
  gbp: 30,
  hkd: 400,
  huf: 17500,
  inr: 50,
  jpy: 50,
  mxn: 1000,
  myr: 200,
  nok: 300,
  nzd: 50,
  pln: 200,
  ron: 200,
  sek: 300,
  sgd: 50,
  thb: 1000,
};

const MAXIMUM = 99_999_999;

export function exponent(currency: string): number {
  if (ZERO_DECIMAL.has(currency)) return 0;
  if (THREE_DECIMAL.has(currency)) return 3;
  return 2;
}

/** "$0.50 usd": for messages only, built from integer parts so no float touches the amount. */
export function formatAmount(amount: number, currency: string): string {
  const digits = exponent(currency);
  const sign = amount < 0 ? '-' : '';
  const absolute = Math.abs(amount);
  const scale = 10 ** digits;
  const major = Math.floor(absolute / scale).toLocaleString('en-US');
  const minor = digits > 0 ? `.${String(absolute % scale).padStart(digits, '0')}` : '';
  return `${sign}${currency === 'usd' ? '$' : ''}${major}${minor} ${currency}`;
}

export function checkCurrency(currency: string, param = 'currency'): string {
  const lower = currency.toLowerCase();
  if (!/^[a-z]{3}$/.test(lower)) {
    throw invalidRequest(
      `Invalid currency: ${currency}. Stripe currently supports these currencies: usd, eur, gbp, ...`,
      'parameter_invalid_string',
      param,
    );
  }
  return lower;
}

export function checkChargeAmount(amount: number, currency: string, param = 'amount'): void {
  const minimum = MINIMUM[currency] ?? 50;
  if (amount < minimum) {
    throw invalidRequest(
      `Amount must be at least ${formatAmount(minimum, currency)}`,
      'amount_too_small',
      param,
    );
  }
  if (amount > MAXIMUM) {
    throw invalidRequest(
      `Amount must be no more than ${formatAmount(MAXIMUM, currency)}`,
      'amount_too_large',
      param,
    );
  }
  if (THREE_DECIMAL.has(currency) && amount % 10 !== 0) {
    throw invalidRequest(
      `Amounts in ${currency.toUpperCase()} must be multiples of 10 (the smallest unit card networks settle).`,
      'invalid_amount',
      param,
    );
  }
}
