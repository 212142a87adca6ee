// Owns PayPal's amounts: `{ currency_code, value }` with the value a decimal string. PayPal's own rules
// (DESIGN section 9): HUF, TWD and JPY take no decimals, KWD (and any currency not in PayPal's list)
// is refused, every other currency takes at most two decimals. Amounts are held as integer minor units.
import { invalidRequest, unprocessable } from './errors.js';

export interface Money {
  currency: string;
  minor: number;
}

const ZERO_DECIMAL = new Set(['HUF', 'TWD', 'JPY']);
/** PayPal's REST currency codes (its "currency codes" reference page). */
const SUPPORTED = new Set([
  'AUD',
  'BRL',
  'CAD',
  'CNY',
  'CZK',
  'DKK',
  'EUR',
  'HKD',
  'HUF',
  'ILS',
  'JPY',
  'MYR',
  'MXN',
  'TWD',
  'NZD',
  'NOK',
  'PHP',
  'PLN',
  'GBP',
  'SGD',
  'SEK',
  'CHF',
  'THB',
  'USD',
]);
const MAX_VALUE = 999_999_999;

export function exponentOf(currency: string): number {
  return ZERO_DECIMAL.has(currency) ? 0 : 2;
}

export function formatValue(minor: number, currency: string): string {
  const exponent = exponentOf(currency);
  if (exponent === 0) return String(minor);
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

export function wireAmount(money: Money): { currency_code: string; value: string } {
  return { currency_code: money.currency, value: formatValue(money.minor, money.currency) };
}

/** Parses `{ currency_code, value }` at `field`, refusing what PayPal refuses and how it refuses it. */
export function parseAmount(input: unknown, field: string): Money {
  if (!input || typeof input !== 'object') {
    throw invalidRequest('MISSING_REQUIRED_PARAMETER', 'A required field / parameter is missing.', field);
  }
  const { currency_code: currency, value } = input as Record<string, unknown>;
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) {
    throw invalidRequest(
      currency === undefined ? 'MISSING_REQUIRED_PARAMETER' : 'INVALID_PARAMETER_SYNTAX',
      'The value of a field does not conform to the expected format.',
      `${field}/currency_code`,
    );
  }
  if (typeof value !== 'string' || !/^\d{1,10}(\.\d+)?$/.test(value)) {
    throw invalidRequest(
      value === undefined ? 'MISSING_REQUIRED_PARAMETER' : 'INVALID_PARAMETER_SYNTAX',
      'The value of a field does not conform to the expected format.',
      `${field}/value`,
    );
  }
  if (!SUPPORTED.has(currency)) {
    throw unprocessable(
      'CURRENCY_NOT_SUPPORTED',
      'Currency code is unknown or is not supported. Please refer to https://developer.paypal.com/docs/integration/direct/rest/currency-codes/ for list of supported currency codes.',
      `${field}/currency_code`,
    );
  }
  const [whole, fraction = ''] = value.split('.');
  const exponent = exponentOf(currency);
  if (fraction.length > exponent) {
    throw unprocessable(
      'DECIMAL_PRECISION',
      exponent === 0
        ? `The value of the field should not have decimals for currency ${currency}.`
        : 'If the currency supports decimals, only two decimal place precision is supported.',
      `${field}/value`,
    );
  }
  const units = Number(whole);
  if (units > MAX_VALUE) {
    throw invalidRequest('INVALID_PARAMETER_VALUE', 'The value of a field is too long.', `${field}/value`);
  }
  const minor = units * 10 ** exponent + Number(fraction.padEnd(exponent, '0') || '0');
  if (minor <= 0) {
    throw unprocessable(
      'CANNOT_BE_ZERO_OR_NEGATIVE',
      'Must be greater than zero. If the currency supports decimals, only two decimal place precision is supported.',
      `${field}/value`,
    );
  }
  return { currency, minor };
}

/**
 * PayPal's fee in this emulator: 3.49 % of the gross plus a fixed 49 minor units (US "advanced
 * credit and debit card" pricing, applied to every currency for simplicity), never above the gross.
 */
export function feeFor(minor: number): number {
  return Math.min(minor, Math.round(minor * 0.0349) + 49);
}
