// Personal data goes into the audit log by reference (DESIGN invariant 7): callers put ids in old and new
// values, never an email, a phone number, a password or card data. This is the second net: whatever a
// caller passes by mistake is replaced before it is written (and hashed into the chain, where it could
// never be erased).
import { luhnValid } from '../../pan.js';

export const REDACTED = '[redacted: personal data is kept by reference]';

const PERSONAL_KEYS = new Set(['email', 'phone', 'password', 'cvc', 'card_number', 'pan', 'totp_secret']);
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
/** 13 to 19 digits, optionally grouped by spaces or dashes: the shape of a card number. */
const CARD_LIKE = /^\d(?:[ -]?\d){12,18}$/;

export function withoutPersonalData(value: unknown): unknown {
  if (typeof value === 'string') return EMAIL.test(value) || isCardNumber(value) ? REDACTED : value;
  if (Array.isArray(value)) return value.map(withoutPersonalData);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, v]) => [
        key,
        PERSONAL_KEYS.has(key.toLowerCase()) && v !== null && v !== undefined
          ? REDACTED
          : withoutPersonalData(v),
      ]),
    );
  }
  return value;
}

function isCardNumber(text: string): boolean {
  return CARD_LIKE.test(text) && luhnValid(text.replace(/\D/g, ''));
}
