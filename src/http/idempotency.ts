// Stripe's idempotency semantics (DESIGN section 5), built on Brandur Leach's atomic phases.
// A key is scoped to merchant + mode. The first request holds a 90 s lease while it executes; a replay
// returns the stored status and body; the same key with another endpoint or other parameters is a 400;
// the same key while in flight is a 409. A request whose process died leaves an expired lease: a
// resumable endpoint continues from its last recovery point, any other is failed by the completer,
// so nothing ever executes twice.
import { createHmac } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { AppError } from './errors.js';
import type { Scope } from './expand.js';
import {
  claimAbandoned,
  deleteUnfinishedKey,
  findAbandoned,
  finishKey,
  insertKey,
  lockKey,
  purgeKeys,
  releaseClaim,
  saveRecoveryPoint,
  takeOver,
} from './idempotency.repository.js';

export const IDEMPOTENCY_LEASE_MS = 90_000;
export const IDEMPOTENCY_RETENTION_MS = 72 * 3_600_000;
export const MAX_KEY_LENGTH = 255;

export interface IdempotencyHandle {
  scope: Scope;
  key: string;
  /** `started` on a first execution; the last committed phase when resuming after a crash. */
  recoveryPoint: string;
  recoveryData: unknown;
  resumed: boolean;
  /** Records a finished phase in the same transaction as that phase's work. */
  checkpoint(
    executor: Kysely<Database> | Transaction<Database>,
    point: string,
    data?: unknown,
  ): Promise<void>;
}

export type BeginResult =
  | { outcome: 'replay'; status: number; body: unknown }
  | { outcome: 'proceed'; handle: IdempotencyHandle };

/** The stored answer for a request that died before finishing on an endpoint that cannot resume. */
export const INTERRUPTED_BODY = {
  error: {
    type: 'api_error',
    code: 'request_interrupted',
    message:
      'The request with this Idempotency-Key was interrupted before it finished. Any effect it had is visible ' +
      'in the API; check before retrying with a new key.',
  },
};

/**
 * A keyed hash of the canonical parameters. Keyed, because parameters include card numbers and CVCs,
 * whose small space would let anyone holding a plain SHA-256 recover them (PCI DSS 3.5.1).
 */
export function canonicalHash(value: unknown, key: Buffer): string {
  return createHmac('sha256', key).update(canonicalJson(value)).digest('hex');
}

/** JSON with object keys sorted, so equal parameters hash equally whatever their order or encoding. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function validateKey(key: string): void {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new AppError(
      400,
      'idempotency_error',
      'idempotency_key_invalid',
      `The Idempotency-Key header must be 1 to ${MAX_KEY_LENGTH} characters (got ${key.length}).`,
      { shouldRetry: false },
    );
  }
}

/** Errors after which the key stays free: nothing was executed on the client's behalf. */
export function keepsKeyFree(error: AppError): boolean {
  if ([401, 403, 409, 429].includes(error.status)) return true;
  if (error.status === 400 && (error.code ?? '').startsWith('parameter_')) return true;
  return error.releasesIdempotencyKey;
}

export const HASH_SECRET_NAME = 'idempotency_request_hmac';

export class IdempotencyService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    /** From ensureServiceSecret(HASH_SECRET_NAME): the same on every replica. */
    private readonly hashKey: Buffer,
  ) {}

  async begin(
    scope: Scope,
    key: string,
    endpoint: string,
    params: unknown,
    resumable: boolean,
  ): Promise<BeginResult> {
    validateKey(key);
    const requestHash = canonicalHash(params, this.hashKey);
    const now = this.clock.now();
    const lockedUntil = new Date(now.getTime() + IDEMPOTENCY_LEASE_MS);
    if (await insertKey(this.db, scope, { key, endpoint, requestHash, now, lockedUntil })) {
      return { outcome: 'proceed', handle: this.handle(scope, key, 'started', null, false) };
    }
    return this.db.transaction().execute(async (trx): Promise<BeginResult> => {
      const row = await lockKey(trx, scope, key);
      if (!row) {
        // Purged between our insert and read: treat as new (rare; the purge only takes 72 h old keys).
        throw new AppError(409, 'idempotency_error', 'idempotency_key_in_use', 'Retry this request.', {
          shouldRetry: true,
        });
      }
      if (row.endpoint !== endpoint) {
        throw new AppError(
          400,
          'idempotency_error',
          'idempotency_key_reused',
          `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${key}' was used for ${row.endpoint}).`,
          { shouldRetry: false },
        );
      }
      if (row.request_hash !== requestHash) {
        throw new AppError(
          400,
          'idempotency_error',
          'idempotency_key_reused',
          `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
          { shouldRetry: false },
        );
      }
      if (row.finished_at && row.response_status !== null) {
        return { outcome: 'replay', status: row.response_status, body: row.response_body };
      }
      if (row.locked_until && row.locked_until > now) {
        throw new AppError(
          409,
          'idempotency_error',
          'idempotency_key_in_use',
          'There is currently another in-progress request using this Idempotency-Key. Retry after it finishes.',
          { shouldRetry: true },
        );
      }
      // The previous holder died. A resumable endpoint continues from its last recovery point; for any
      // other we cannot know whether its work committed, so it is never executed a second time.
      if (!resumable) {
        await finishKey(trx, scope, key, { status: 500, body: INTERRUPTED_BODY, at: now });
        return { outcome: 'replay', status: 500, body: INTERRUPTED_BODY };
      }
      await takeOver(trx, scope, key, lockedUntil);
      return {
        outcome: 'proceed',
        handle: this.handle(scope, key, row.recovery_point, row.recovery_data, true),
      };
    });
  }

  async finish(handle: IdempotencyHandle, status: number, body: unknown): Promise<void> {
    await finishKey(this.db, handle.scope, handle.key, { status, body, at: this.clock.now() });
  }

  /** Frees the key of a request that ended before doing anything (see keepsKeyFree). */
  async release(handle: IdempotencyHandle, afterProgress = false): Promise<void> {
    await deleteUnfinishedKey(this.db, handle.scope, handle.key, afterProgress);
  }

  /** Deletes keys past the 72 h retention, a batch at a time; returns how many went. */
  async purgeExpired(batch = 5_000): Promise<number> {
    return purgeKeys(this.db, new Date(this.clock.now().getTime() - IDEMPOTENCY_RETENTION_MS), batch);
  }

  /**
   * The completer: requests whose lease expired without a stored response. Endpoints that can resume
   * register a completer; for all others the stored answer becomes INTERRUPTED_BODY. Returns how many
   * were finished (a completer that cannot finish yet leaves its key for the next run).
   */
  async completeAbandoned(
    completers: ReadonlyMap<
      string,
      (handle: IdempotencyHandle, endpoint: string) => Promise<{ status: number; body: unknown }>
    >,
    limit = 100,
  ): Promise<number> {
    const now = this.clock.now();
    const abandoned = await findAbandoned(this.db, now, limit);
    let completed = 0;
    for (const listed of abandoned) {
      const scope = { merchantId: listed.merchant_id, livemode: listed.livemode };
      // The list is a snapshot and finishing a key can take a provider read: a client's retry may have
      // taken a listed key over (or finished it) since. Claim each with a lease of our own first, and
      // work from the row as it is now.
      const lease = new Date(this.clock.now().getTime() + IDEMPOTENCY_LEASE_MS);
      const row = await claimAbandoned(this.db, scope, listed.key, this.clock.now(), lease);
      if (!row) continue;
      const completer = completers.get(row.endpoint.split(' ').slice(0, 2).join(' '));
      const handle = this.handle(scope, row.key, row.recovery_point, row.recovery_data, true);
      let outcome: { status: number; body: unknown };
      try {
        outcome = completer ? await completer(handle, row.endpoint) : { status: 500, body: INTERRUPTED_BODY };
      } catch {
        // The completer could not finish yet (the provider's outcome is still unknown): the next run retries.
        await releaseClaim(this.db, scope, row.key, lease, listed.locked_until);
        continue;
      }
      await finishKey(this.db, scope, row.key, { ...outcome, at: this.clock.now() }, lease);
      completed++;
    }
    return completed;
  }

  private handle(
    scope: Scope,
    key: string,
    point: string,
    data: unknown,
    resumed: boolean,
  ): IdempotencyHandle {
    return {
      scope,
      key,
      recoveryPoint: point,
      recoveryData: data,
      resumed,
      checkpoint: (executor, next, nextData) => saveRecoveryPoint(executor, scope, key, next, nextData),
    };
  }
}
