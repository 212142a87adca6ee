// The one currency table (DESIGN section 9): ISO 4217 exponent, the smallest and largest amount a
// payment may have, and the providers' own rules. Amounts are always integers of minor units.

export interface Currency {
  code: string;
  /** Minor units per major unit = 10^exponent (ISO 4217). */
  exponent: 0 | 2 | 3;
  /** Smallest payment amount in minor units (Stripe's minimum charge amounts where it has one). */
  minimum: number;
  /** Largest payment amount in minor units (Stripe's 8-digit limit). */
  maximum: number;
}

const MAX = 99_999_999;

function currency(code: string, exponent: 0 | 2 | 3, minimum: number): Currency {
  return { code, exponent, minimum, maximum: MAX };
}

/** The currencies the service takes payments in. */
export const CURRENCIES: ReadonlyMap<string, Currency> = new Map(
  [
    currency('usd', 2, 50),
    currency('eur', 2, 50),
    currency('gbp', 2, 30),
    currency('chf', 2, 50),
    currency('cad', 2, 50),
    currency('aud', 2, 50),
    currency('nzd', 2, 50),
    currency('sek', 2, 300),
    currency('nok', 2, 300),
    currency('dkk', 2, 250),
    currency('pln', 2, 200),
    currency('czk', 2, 1500),
    currency('huf', 2, 17500),
    currency('ron', 2, 200),
    currency('bgn', 2, 100),
    currency('mxn', 2, 1000),
    currency('brl', 2, 50),
    currency('sgd', 2, 50),
    currency('hkd', 2, 400),
    currency('twd', 2, 1500),
    currency('inr', 2, 50),
    currency('thb', 2, 1000),
    currency('myr', 2, 200),
    currency('php', 2, 2000),
    currency('ils', 2, 200),
    currency('aed', 2, 200),
    currency('zar', 2, 1000),
    currency('jpy', 0, 50),
    currency('krw', 0, 500),
    currency('vnd', 0, 10000),
    currency('clp', 0, 500),
    currency('isk', 0, 100),
    currency('ugx', 0, 2000),
    currency('bhd', 3, 500),
    currency('jod', 3, 500),
    currency('kwd', 3, 500),
    currency('omr', 3, 500),
    currency('tnd', 3, 2000),
  ].map((c) => [c.code, c]),
);

export type ProviderName = 'stripe' | 'paypal' | 'wallet';

interface ProviderCurrencyRules {
  /** Currencies the provider refuses outright. */
  unsupported: ReadonlySet<string>;
  /** Currencies the provider takes without decimals although ISO gives them some (amount % 10^exp == 0). */
  noDecimals: ReadonlySet<string>;
  /** Three-decimal currencies whose amounts must be multiples of 10 (Stripe's rule). */
  threeDecimalMultipleOfTen: boolean;
}

const PROVIDER_RULES: Record<ProviderName, ProviderCurrencyRules> = {
  stripe: { unsupported: new Set(), noDecimals: new Set(), threeDecimalMultipleOfTen: true },
  // PayPal: HUF, TWD and JPY take whole amounts only; KWD (and the other 3-decimal currencies) are not offered.
  paypal: {
    unsupported: new Set([
      'kwd',
      'bhd',
      'jod',
      'omr',
      'tnd',
      'krw',
      'vnd',
      'clp',
      'isk',
      'ugx',
      'ron',
      'bgn',
      'aed',
      'zar',
      'inr',
    ]),
    noDecimals: new Set(['huf', 'twd', 'jpy']),
    threeDecimalMultipleOfTen: false,
  },
  wallet: { unsupported: new Set(), noDecimals: new Set(), threeDecimalMultipleOfTen: false },
};

export function findCurrency(code: string): Currency | undefined {
  return CURRENCIES.get(code.toLowerCase());
}

export type AmountProblem =
  | { kind: 'not_integer' }
  | { kind: 'below_minimum'; minimum: number }
  | { kind: 'above_maximum'; maximum: number }
  | { kind: 'unknown_currency' }
  | { kind: 'three_decimal_multiple_of_ten' };

/** Checks an amount against the currency table (and Stripe's 3-decimal rule, which binds every card payment). */
export function amountProblem(amount: number, code: string): AmountProblem | undefined {
  const found = findCurrency(code);
  if (!found) return { kind: 'unknown_currency' };
  if (!Number.isSafeInteger(amount)) return { kind: 'not_integer' };
  if (amount < found.minimum) return { kind: 'below_minimum', minimum: found.minimum };
  if (amount > found.maximum) return { kind: 'above_maximum', maximum: found.maximum };
  if (found.exponent === 3 && amount % 10 !== 0) return { kind: 'three_decimal_multiple_of_ten' };
  return undefined;
}

/** Whether `provider` can take `amount` in `code`; routing skips providers that cannot. */
export function providerSupports(provider: ProviderName, code: string, amount: number): boolean {
  const rules = PROVIDER_RULES[provider];
  const found = findCurrency(code);
  if (!found || rules.unsupported.has(found.code)) return false;
  if (rules.noDecimals.has(found.code) && amount % 10 ** found.exponent !== 0) return false;
  if (rules.threeDecimalMultipleOfTen && found.exponent === 3 && amount % 10 !== 0) return false;
  return true;
}

/**
 * Minor units as the decimal string a provider's API wants ("10.50", "1050" JPY on PayPal as "1050").
 * Integer arithmetic only: no float ever touches the amount.
 */
export function toDecimalString(amount: number, code: string, provider: ProviderName = 'stripe'): string {
  const found = findCurrency(code);
  if (!found) throw new RangeError(`unknown currency ${code}`);
  if (!Number.isSafeInteger(amount)) throw new RangeError(`amount must be an integer (got ${amount})`);
  const exponent = PROVIDER_RULES[provider].noDecimals.has(found.code) ? 0 : found.exponent;
  const scale = 10 ** found.exponent;
  if (exponent === 0) {
    if (amount % scale !== 0)
      throw new RangeError(`${provider} takes ${code} without decimals (got ${amount})`);
    return String(amount / scale);
  }
  const sign = amount < 0 ? '-' : '';
  const digits = String(Math.abs(amount)).padStart(exponent + 1, '0');
  return `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

/** The inverse of toDecimalString: a provider's decimal string back to minor units, exactly. */
export function fromDecimalString(value: string, code: string): number {
  const found = findCurrency(code);
  if (!found) throw new RangeError(`unknown currency ${code}`);
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(value.trim());
  if (!match) throw new RangeError(`not a decimal amount: ${value}`);
  const [, sign, whole, fraction = ''] = match;
  if (fraction.length > found.exponent)
    throw new RangeError(`${value} has more decimals than ${code} allows`);
  const minor = Number(`${whole}${fraction.padEnd(found.exponent, '0')}`);
  if (!Number.isSafeInteger(minor)) throw new RangeError(`${value} is out of range`);
  return sign === '-' ? -minor : minor;
}
