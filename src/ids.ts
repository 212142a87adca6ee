// Object ids in Stripe's style: a type prefix and random base62 characters.
import { createHash, randomInt } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function randomBase62(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

export function newId(prefix: string, length = 24): string {
  return `${prefix}_${randomBase62(length)}`;
}

/** SHA-256 hex: for high-entropy tokens (API keys, session tokens) a fast hash is enough to store. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
