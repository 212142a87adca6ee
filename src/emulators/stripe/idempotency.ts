// Owns Stripe's idempotency keys: scoped to the account, kept 24 hours on the emulator's clock,
// replayed with `Idempotent-Replayed: true`, refused with `idempotency_error` when reused for another
// endpoint or other parameters. A key whose first request is still executing answers 409
// `idempotency_key_in_use`, as Stripe does, rather than queueing: exactly one request executes.
import { createHash } from 'node:crypto';
import { idempotencyError, invalidRequest, type StripeApiError } from './errors.js';
import type { StoredRecord } from './records.js';

export const IDEMPOTENCY_WINDOW_SECONDS = 24 * 60 * 60;
const MAX_KEY_LENGTH = 255;

/** A saved answer; records are immutable versions, so keeping one is as exact as keeping its JSON. */
export interface SavedResponse {
  status: number;
  body?: string;
  record?: StoredRecord;
  expand?: string[];
}

export interface IdempotencyEntry {
  account: string;
  key: string;
  method: string;
  path: string;
  fingerprint: string;
  created: number;
  /** null while the first request is executing. */
  response: SavedResponse | null;
}

export type Claim =
  | { kind: 'new'; entry: IdempotencyEntry }
  | { kind: 'replay'; entry: IdempotencyEntry; response: SavedResponse }
  | { kind: 'refused'; error: StripeApiError };

export function fingerprint(method: string, path: string, params: unknown): string {
  return createHash('sha1')
    .update(`${method} ${path} ${canonical(params)}`)
    .digest('base64');
}

/** JSON with object keys sorted, so the same parameters in another order are the same request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export class IdempotencyTable {
  // Insertion order is creation order, so expiry sweeps stop at the first live entry.
  private readonly entries = new Map<string, IdempotencyEntry>();
  /** Called when an answer is saved, so it can be persisted. */
  onSaved: ((id: string, entry: IdempotencyEntry) => void) | null = null;

  claim(
    account: string,
    key: string,
    request: { method: string; path: string; fingerprint: string },
    now: number,
  ): Claim {
    if (key.length > MAX_KEY_LENGTH) {
      return {
        kind: 'refused',
        error: invalidRequest(
          `Invalid Idempotency-Key: keys can be at most ${MAX_KEY_LENGTH} characters long (got ${key.length}).`,
          'idempotency_key_invalid',
        ),
      };
    }
    const id = `${account} ${key}`;
    const existing = this.entries.get(id);
    if (existing && now - existing.created < IDEMPOTENCY_WINDOW_SECONDS) {
      if (existing.method !== request.method || existing.path !== request.path) {
        return {
          kind: 'refused',
          error: idempotencyError(
            `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${existing.method} ${existing.path}' vs '${request.method} ${request.path}'). Try using a key other than '${key}' if you meant to execute a different request.`,
          ),
        };
      }
      if (existing.fingerprint !== request.fingerprint) {
        return {
          kind: 'refused',
          error: idempotencyError(
            `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
          ),
        };
      }
      if (existing.response === null) {
        return {
          kind: 'refused',
          error: invalidRequest(
            `There is currently another in-progress request using this idempotency key (that probably means you submitted twice, and the other request is still going through): ${key}. Please try again later.`,
            'idempotency_key_in_use',
            undefined,
            409,
          ),
        };
      }
      return { kind: 'replay', entry: existing, response: existing.response };
    }
    if (existing) this.entries.delete(id);
    const entry: IdempotencyEntry = { account, key, ...request, created: now, response: null };
    this.entries.set(id, entry);
    return { kind: 'new', entry };
  }

  save(entry: IdempotencyEntry, response: SavedResponse): void {
    entry.response = response;
    this.onSaved?.(`${entry.account} ${entry.key}`, entry);
  }

  /** Frees the key: the request ended before executing (validation), so a corrected retry may use it. */
  release(entry: IdempotencyEntry): void {
    const id = `${entry.account} ${entry.key}`;
    if (this.entries.get(id) === entry) this.entries.delete(id);
  }

  sweep(now: number): void {
    for (const [id, entry] of this.entries) {
      if (now - entry.created < IDEMPOTENCY_WINDOW_SECONDS) break;
      if (entry.response !== null) this.entries.delete(id);
    }
  }

  restore(entry: IdempotencyEntry, now: number): void {
    if (entry.response && now - entry.created < IDEMPOTENCY_WINDOW_SECONDS) {
      this.entries.set(`${entry.account} ${entry.key}`, entry);
    }
  }

  size(): number {
    return this.entries.size;
  }

  saved(): IterableIterator<IdempotencyEntry> {
    return this.entries.values();
  }
}
