// Owns the sandbox cards (DESIGN section 6, the same numbers as Stripe's test mode) as PayPal sees
// them in `payment_source.card`: validation of number, expiry and security code, and the scenario a
// number stands for. Only brand, last digits and expiry are kept; the number and CVC are dropped here.
import { invalidRequest, unprocessable } from './errors.js';
import type { CardScenario, CardSource, ProcessorResponse } from './records.js';

const SCENARIOS: Record<string, CardScenario> = {
  '4000000000000002': 'decline',
  '4000000000009995': 'insufficient_funds',
  '4000002500003155': 'three_ds',
  '4000000000000119': 'processing_error',
  '4000000000000259': 'dispute',
  '4000000000001976': 'inquiry',
};

function luhnValid(number: string): boolean {
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

/** PayPal's card brand names (`payment_source.card.brand`). */
function brandOf(number: string): string {
  if (number.startsWith('4')) return 'VISA';
  const two = Number(number.slice(0, 2));
  const four = Number(number.slice(0, 4));
  if ((two >= 51 && two <= 55) || (four >= 2221 && four <= 2720)) return 'MASTERCARD';
  if (two === 34 || two === 37) return 'AMEX';
  if (number.startsWith('6011') || number.startsWith('65')) return 'DISCOVER';
  if (two === 35) return 'JCB';
  return 'UNKNOWN';
}

const FIELD = 'payment_source/card';

/** Validates `payment_source.card` and keeps the safe part of it. */
export function checkCard(input: Record<string, unknown>, today: Date): CardSource {
  const number = typeof input['number'] === 'string' ? input['number'].replace(/[\s-]/g, '') : '';
  if (!/^\d{12,19}$/.test(number) || !luhnValid(number)) {
    throw unprocessable('CARD_NUMBER_INVALID', 'The card number is invalid.', `/${FIELD}/number`);
  }
  const expiry = input['expiry'];
  const match = typeof expiry === 'string' ? /^(\d{4})-(\d{2})$/.exec(expiry) : null;
  if (!match || Number(match[2]) < 1 || Number(match[2]) > 12) {
    throw invalidRequest(
      'INVALID_PARAMETER_SYNTAX',
      'The value of a field does not conform to the expected format.',
      `/${FIELD}/expiry`,
    );
  }
  const [year, month] = [Number(match[1]), Number(match[2])];
  if (year * 12 + month < today.getUTCFullYear() * 12 + today.getUTCMonth() + 1) {
    throw unprocessable('CARD_EXPIRED', 'The card is expired.', `/${FIELD}/expiry`);
  }
  const code = input['security_code'];
  if (code !== undefined && (typeof code !== 'string' || !/^\d{3,4}$/.test(code))) {
    throw invalidRequest(
      'INVALID_PARAMETER_SYNTAX',
      'The value of a field does not conform to the expected format.',
      `/${FIELD}/security_code`,
    );
  }
  const name = typeof input['name'] === 'string' ? input['name'].slice(0, 300) : null;
  return {
    type: 'card',
    brand: brandOf(number),
    last_digits: number.slice(-4),
    expiry: expiry as string,
    name,
    scenario: SCENARIOS[number] ?? 'succeed',
    authenticated: false,
  };
}

/**
 * How a card payment comes out at capture or authorization. PayPal answers an ACDC decline with HTTP
 * 201, the capture `DECLINED` and the issuer's reason in `processor_response.response_code`
 * (PayPal's processor-response-code list): 0500 DO_NOT_HONOR for a generic decline, 5120
 * INSUFFICIENT_FUNDS, 8000 PROCESSOR_SYSTEM_ERROR for a processing error; 0000 APPROVED otherwise.
 */
export function cardOutcome(source: CardSource): {
  approved: boolean;
  processor_response: ProcessorResponse;
} {
  const code =
    source.scenario === 'decline'
      ? '0500'
      : source.scenario === 'insufficient_funds'
        ? '5120'
        : source.scenario === 'processing_error'
          ? '8000'
          : '0000';
  return {
    approved: code === '0000',
    processor_response: {
      avs_code: code === '0000' ? 'Y' : 'N',
      cvv_code: code === '0000' ? 'M' : 'N',
      response_code: code,
    },
  };
}
