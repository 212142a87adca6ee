// Endpoint secrets at rest: AES-256-GCM under an installation key kept in service_secrets, with the
// endpoint id as additional authenticated data so a ciphertext copied to another endpoint fails to open.
// Values travel as Secret so a log line or error can never print them.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Secret } from '../vault/secret.js';

export const ENDPOINT_SECRETS_KEY_NAME = 'webhook_endpoint_secrets';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class EndpointSecrets {
  readonly #key: Buffer;
  /** Decrypted secrets by ciphertext: the delivery path opens the same few secrets thousands of times. */
  readonly #opened = new Map<string, Secret<string>>();

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('webhook endpoint secrets key must be 32 bytes');
    this.#key = key;
  }

  seal(endpointId: string, secret: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(`webhook_endpoint:${endpointId}`));
    const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  open(endpointId: string, ciphertext: string): Secret<string> {
    const cached = this.#opened.get(ciphertext);
    if (cached) return cached;
    const raw = Buffer.from(ciphertext, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, IV_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(`webhook_endpoint:${endpointId}`));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    const plain = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    const secret = new Secret(plain.toString('utf8'));
    if (this.#opened.size > 10_000) this.#opened.clear();
    this.#opened.set(ciphertext, secret);
    return secret;
  }
}
