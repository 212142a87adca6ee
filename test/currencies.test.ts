// The currency table and amount conversions: property tests over random amounts, and the providers'
// rules DESIGN section 9 names (PayPal: HUF, TWD, JPY without decimals, no KWD; Stripe: 3-decimal x10).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  amountProblem,
  CURRENCIES,
  fromDecimalString,
  providerSupports,
  toDecimalString,
} from '../src/money/currencies.js';

const codes = [...CURRENCIES.keys()];

describe('currency table', () => {
  it('round-trips every amount through the decimal string exactly, in every currency', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...codes),
        fc.integer({ min: -99_999_999, max: 99_999_999 }),
        (code, amount) => {
          expect(fromDecimalString(toDecimalString(amount, code), code)).toBe(amount);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('writes decimals by exponent', () => {
    expect(toDecimalString(1050, 'usd')).toBe('10.50');
    expect(toDecimalString(5, 'usd')).toBe('0.05');
    expect(toDecimalString(-5, 'eur')).toBe('-0.05');
    expect(toDecimalString(1050, 'jpy')).toBe('1050');
    expect(toDecimalString(1500, 'kwd')).toBe('1.500');
  });

  it('sends HUF, TWD and JPY to PayPal without decimals, and refuses a fractional amount there', () => {
    expect(toDecimalString(150000, 'huf', 'paypal')).toBe('1500');
    expect(toDecimalString(150000, 'twd', 'paypal')).toBe('1500');
    expect(toDecimalString(1050, 'jpy', 'paypal')).toBe('1050');
    expect(() => toDecimalString(150050, 'huf', 'paypal')).toThrow(RangeError);
    expect(providerSupports('paypal', 'huf', 150050)).toBe(false);
    expect(providerSupports('paypal', 'huf', 150000)).toBe(true);
  });

  it('never routes KWD to PayPal, and needs 3-decimal Stripe amounts in tens', () => {
    expect(providerSupports('paypal', 'kwd', 1000)).toBe(false);
    expect(providerSupports('stripe', 'kwd', 1000)).toBe(true);
    expect(providerSupports('stripe', 'kwd', 1005)).toBe(false);
    expect(amountProblem(1005, 'kwd')).toEqual({ kind: 'three_decimal_multiple_of_ten' });
  });

  it('finds amount problems: float, below minimum, above maximum, unknown currency', () => {
    expect(amountProblem(10.5, 'usd')).toEqual({ kind: 'not_integer' });
    expect(amountProblem(49, 'usd')).toEqual({ kind: 'below_minimum', minimum: 50 });
    expect(amountProblem(100_000_000, 'usd')).toEqual({ kind: 'above_maximum', maximum: 99_999_999 });
    expect(amountProblem(100, 'xyz')).toEqual({ kind: 'unknown_currency' });
    expect(amountProblem(100, 'USD')).toBeUndefined();
    fc.assert(
      fc.property(fc.constantFrom(...codes), fc.integer({ min: 0, max: 99_999_999 }), (code, amount) => {
        const problem = amountProblem(amount, code);
        const currency = CURRENCIES.get(code)!;
        if (amount >= currency.minimum && (currency.exponent !== 3 || amount % 10 === 0)) {
          expect(problem).toBeUndefined();
        } else {
          expect(problem).toBeDefined();
        }
      }),
    );
  });

  it('refuses malformed decimal strings and too many decimals', () => {
    for (const bad of ['1.005', '1e3', 'abc', '', '1.2.3']) {
      expect(() => fromDecimalString(bad, 'usd'), bad).toThrow(RangeError);
    }
  });
});
