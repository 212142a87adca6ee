// Owns the emulator's signing identity: an RSA key and a self-signed X.509 certificate that webhooks
// are signed with (served at the cert URL they name), plus the key that signs access tokens. With a
// data folder they are kept in `paypal-emulator-keys.json`, so certificate and tokens survive restarts.
//
// The certificate is DER-encoded here (one version, one algorithm, one name: about sixty lines) rather
// than with an X.509 library: the libraries for it need a global `reflect-metadata` polyfill, and
// node's own crypto.X509Certificate, which the tests verify with, parses what this writes.
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  randomUUID,
  sign,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const KEYS_FILE = 'paypal-emulator-keys.json';

export interface SigningIdentity {
  privateKey: KeyObject;
  certificatePem: string;
  /** The `CERT-...` name under /v1/notifications/certs/. */
  certName: string;
  /** HMAC key of the access tokens. */
  tokenKey: Buffer;
}

interface KeysFile {
  private_key_pem: string;
  certificate_pem: string;
  cert_name: string;
  token_key: string;
}

function der(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const length =
    n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

const sequence = (...parts: Buffer[]) => der(0x30, Buffer.concat(parts));

function integer(bytes: Buffer): Buffer {
  return der(0x02, bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [a! * 40 + b!];
  for (const value of rest) {
    const digits = [value & 0x7f];
    for (let v = value >> 7; v > 0; v >>= 7) digits.unshift((v & 0x7f) | 0x80);
    out.push(...digits);
  }
  return der(0x06, Buffer.from(out));
}

function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  // RFC 5280: UTCTime through 2049, GeneralizedTime after.
  return date.getUTCFullYear() < 2050
    ? der(0x17, Buffer.from(`${iso.slice(2)}Z`))
    : der(0x18, Buffer.from(`${iso}Z`));
}

function name(commonName: string): Buffer {
  return sequence(der(0x31, sequence(oid('2.5.4.3'), der(0x0c, Buffer.from(commonName)))));
}

/** A self-signed v3 certificate for `publicKey`, signed SHA256withRSA with `privateKey`. */
export function selfSignedCertificate(privateKey: KeyObject, commonName: string, notBefore: Date): string {
  const algorithm = sequence(oid('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00]));
  const subject = name(commonName);
  const notAfter = new Date(notBefore.getTime() + 10 * 365 * 86_400_000);
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const serial = randomBytes(8);
  serial[0]! &= 0x7f;
  const tbs = sequence(
    der(0xa0, integer(Buffer.from([2]))),
    integer(serial),
    algorithm,
    subject,
    sequence(time(notBefore), time(notAfter)),
    subject,
    spki,
  );
  const signature = sign('sha256', tbs, privateKey);
  const cert = sequence(tbs, algorithm, der(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const lines = cert
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n');
  return `-----BEGIN CERTIFICATE-----\n${lines}\n-----END CERTIFICATE-----\n`;
}

// One RSA key per process for the emulators it starts: generating one costs about half a second of CPU,
// which the test suite paid at each of its ~400 service starts. Each emulator still gets its own
// certificate, certificate name and token key.
let processKey: KeyObject | undefined;

function generate(now: Date): SigningIdentity {
  processKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const privateKey = processKey;
  return {
    privateKey,
    certificatePem: selfSignedCertificate(privateKey, 'messageverificationcerts.emulator.paypal.test', now),
    certName: `CERT-${randomUUID().slice(0, 8)}`,
    tokenKey: randomBytes(32),
  };
}

/** Loads the identity kept in `dataDir`, or makes one (and keeps it there when a folder is given). */
export function loadSigningIdentity(dataDir: string | undefined, now: Date): SigningIdentity {
  const file = dataDir ? path.join(dataDir, KEYS_FILE) : null;
  if (file && existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as KeysFile;
    return {
      privateKey: createPrivateKey(saved.private_key_pem),
      certificatePem: saved.certificate_pem,
      certName: saved.cert_name,
      tokenKey: Buffer.from(saved.token_key, 'base64'),
    };
  }
  const identity = generate(now);
  if (file && dataDir) {
    mkdirSync(dataDir, { recursive: true });
    const saved: KeysFile = {
      private_key_pem: identity.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      certificate_pem: identity.certificatePem,
      cert_name: identity.certName,
      token_key: identity.tokenKey.toString('base64'),
    };
    writeFileSync(file, JSON.stringify(saved), { mode: 0o600 });
  }
  return identity;
}
