// Envelope encryption with AES-256-GCM: each entry has its own random data key that encrypts the
// plaintext; the data key is wrapped (encrypted) by a key-encryption key. Additional authenticated data
// binds both layers to the merchant, mode, payment method and entry kind, and the wrapped key also to the
// KEK id, so ciphertext copied to another row, merchant, mode or key id fails to open instead of opening.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { VaultKey } from './vault.keys.js';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export type EntryKind = 'card' | 'cvc';

/** Where an entry belongs; every part goes into the additional authenticated data. */
export interface EntryContext {
  merchantId: string;
  livemode: boolean;
  paymentMethodId: string;
  kind: EntryKind;
}

export interface Envelope {
  kekId: string;
  wrappedKey: string;
  ciphertext: string;
}

/** Raised when an entry does not open; it says which entry, never anything about its content. */
export class VaultDecryptionError extends Error {
  override name = 'VaultDecryptionError';
}

const dataAad = (c: EntryContext) =>
  Buffer.from(JSON.stringify(['vault.v1', 'data', c.kind, c.merchantId, c.livemode, c.paymentMethodId]));
const wrapAad = (c: EntryContext, kekId: string) =>
  Buffer.from(
    JSON.stringify(['vault.v1', 'wrap', c.kind, c.merchantId, c.livemode, c.paymentMethodId, kekId]),
  );

function encrypt(key: Buffer, plaintext: Buffer, aad: Buffer): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

function decrypt(key: Buffer, encoded: string, aad: Buffer): Buffer {
  const raw = Buffer.from(encoded, 'base64');
  if (raw.length < IV_BYTES + TAG_BYTES) throw new Error('ciphertext too short');
  const decipher = createDecipheriv(ALGORITHM, key, raw.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
}

export function seal(plaintext: Buffer, kek: VaultKey, context: EntryContext): Envelope {
  const dataKey = randomBytes(32);
  try {
    return {
      kekId: kek.id,
      wrappedKey: encrypt(kek.key, dataKey, wrapAad(context, kek.id)),
      ciphertext: encrypt(dataKey, plaintext, dataAad(context)),
    };
  } finally {
    dataKey.fill(0);
  }
}

function unwrap(envelope: Envelope, kek: VaultKey, context: EntryContext): Buffer {
  // The KEK is the one the entry names; GCM authentication turns a wrong key into an error, not garbage.
  if (kek.id !== envelope.kekId)
    throw new VaultDecryptionError(`entry names key ${envelope.kekId}, not ${kek.id}`);
  try {
    return decrypt(kek.key, envelope.wrappedKey, wrapAad(context, envelope.kekId));
  } catch {
    throw new VaultDecryptionError(
      `the data key of ${context.kind} entry ${context.paymentMethodId} does not open under key ${kek.id}`,
    );
  }
}

export function open(envelope: Envelope, kek: VaultKey, context: EntryContext): Buffer {
  const dataKey = unwrap(envelope, kek, context);
  try {
    return decrypt(dataKey, envelope.ciphertext, dataAad(context));
  } catch {
    throw new VaultDecryptionError(`${context.kind} entry ${context.paymentMethodId} does not decrypt`);
  } finally {
    dataKey.fill(0);
  }
}

/** Re-wraps the data key under another KEK; the card ciphertext itself is not touched or decrypted. */
export function rewrap(envelope: Envelope, from: VaultKey, to: VaultKey, context: EntryContext): Envelope {
  const dataKey = unwrap(envelope, from, context);
  try {
    return {
      kekId: to.id,
      wrappedKey: encrypt(to.key, dataKey, wrapAad(context, to.id)),
      ciphertext: envelope.ciphertext,
    };
  } finally {
    dataKey.fill(0);
  }
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Stripe-like 16-character fingerprint: per merchant, so it links nothing across merchants. */
export function computeFingerprint(key: VaultKey, merchantId: string, pan: string): string {
  const digest = createHmac('sha256', key.key).update(`${merchantId}\n${pan}`).digest();
  let out = '';
  for (let i = 0; i < 16; i++) out += BASE62[(digest[i] as number) % 62];
  return out;
}
