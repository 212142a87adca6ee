// The TOTP second factor (RFC 6238 through the otpauth library): 30-second steps, six digits, one step of
// drift either way. A code is accepted only for a step later than the last one used, so a code seen over
// a shoulder or in a log cannot be replayed. Secrets rest AES-256-GCM sealed under an installation key
// in service_secrets, with the operator id as additional authenticated data.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Secret as OtpSecret, TOTP } from 'otpauth';

export const TOTP_SECRETS_KEY_NAME = 'operator_totp_secrets';
const ISSUER = 'payment-service';
const PERIOD_SECONDS = 30;
const IV_BYTES = 12;
const TAG_BYTES = 16;

function totpFor(secretBase32: string, label = 'operator'): TOTP {
  return new TOTP({
    issuer: ISSUER,
    label,
    algorithm: 'SHA1',
    digits: 6,
    period: PERIOD_SECONDS,
    secret: OtpSecret.fromBase32(secretBase32),
  });
}

/** A fresh 160-bit secret (RFC 4226's recommended length) and the otpauth:// URI an authenticator reads. */
export function newTotpSecret(email: string): { secret: string; uri: string } {
  const secret = new OtpSecret({ size: 20 }).base32;
  return { secret, uri: totpFor(secret, email).toString() };
}

/**
 * The time step the code belongs to, or undefined when it is wrong or not later than `lastStep`.
 * `at` is the service clock, so tests move it like every other expiry.
 */
export function acceptTotp(
  secretBase32: string,
  code: string,
  at: Date,
  lastStep: number | null,
): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const timestamp = at.getTime();
  const delta = totpFor(secretBase32).validate({ token: code, timestamp, window: 1 });
  if (delta === null) return undefined;
  const step = Math.floor(timestamp / 1000 / PERIOD_SECONDS) + delta;
  return lastStep !== null && step <= lastStep ? undefined : step;
}

export class TotpSecrets {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('operator TOTP secrets key must be 32 bytes');
    this.#key = key;
  }

  seal(operatorId: string, secret: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(`operator_totp:${operatorId}`));
    const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  open(operatorId: string, ciphertext: string): string {
    const raw = Buffer.from(ciphertext, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, IV_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(`operator_totp:${operatorId}`));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
      'utf8',
    );
  }
}
