// Owns the emulators' random ids. An emulator makes several ids per payment at benchmark rates, so
// characters are drawn from a pooled buffer of CSPRNG bytes instead of one crypto call per character;
// bytes >= 248 are skipped so each of the 62 characters stays equally likely.
import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const UNBIASED_LIMIT = 248; // 4 * 62
const pool = Buffer.alloc(4096);
let position = pool.length;

function nextByte(): number {
  if (position >= pool.length) {
    randomFillSync(pool);
    position = 0;
  }
  return pool[position++]!;
}

export function randomToken(length: number): string {
  let out = '';
  while (out.length < length) {
    const byte = nextByte();
    if (byte < UNBIASED_LIMIT) out += ALPHABET[byte % 62];
  }
  return out;
}

export function randomId(prefix: string, length = 24): string {
  return `${prefix}_${randomToken(length)}`;
}
