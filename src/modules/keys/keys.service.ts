// Creates, authenticates, rotates and revokes merchant API keys. Authentication caches a key for at most
// two seconds, so a revocation reaches every replica well within the five seconds runbook 003 expects.
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../../clock.js';
import { unixSeconds } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { authenticationFailed, invalidParam, resourceMissing } from '../../http/errors.js';
import type { MerchantPrincipal } from '../../http/principals.js';
import { newId, randomBase62, sha256Hex } from '../../ids.js';
import type { Logger } from '../../observability/logger.js';
import { type ApiKeyView, type CreateKeyInput, KEY_PREFIX, keyModeOf } from './keys.js';
import {
  findKeyByHash,
  findKeyById,
  insertKey,
  listKeys,
  listRotationDue,
  setKeyReplaced,
  setKeyRevoked,
  touchKey,
} from './keys.repository.js';
import type { ApiKeyRow } from './keys.table.js';

const CACHE_TTL_MS = 2_000;
const TOUCH_INTERVAL_MS = 60_000;

export class AuthenticationError extends Error {
  constructor(readonly reason: 'missing' | 'malformed' | 'unknown' | 'revoked' | 'expired') {
    super(reason);
  }
}

export class KeysService {
  private readonly cache = new Map<string, { row: ApiKeyRow | undefined; fetchedAt: number }>();
  private readonly lastTouched = new Map<string, number>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly onFailure: (reason: AuthenticationError['reason']) => void = () => {},
  ) {}

  async create(
    merchantId: string,
    input: CreateKeyInput,
    explicitSecret?: string,
    executor: Kysely<Database> | Transaction<Database> = this.db,
  ) {
    if (input.kind === 'restricted' && (!input.scopes || input.scopes.length === 0)) {
      throw invalidParam('scopes', 'A restricted key needs at least one scope.');
    }
    if (input.kind !== 'restricted' && input.scopes !== undefined) {
      throw invalidParam('scopes', `Only restricted keys carry scopes; a ${input.kind} key has them all.`);
    }
    const secret =
      explicitSecret ?? `${KEY_PREFIX[input.kind]}_${input.livemode ? 'live' : 'test'}_${randomBase62(40)}`;
    const row = await insertKey(executor, {
      id: newId('key'),
      merchant_id: merchantId,
      livemode: input.livemode,
      kind: input.kind,
      secret_hash: sha256Hex(secret),
      prefix: secret.slice(0, secret.indexOf('_', 3) + 1),
      last4: secret.slice(-4),
      name: input.name ?? null,
      scopes: input.kind === 'restricted' ? JSON.stringify(input.scopes) : null,
      created_at: this.clock.now(),
      expires_at: input.expiresAt ?? null,
      revoked_at: null,
      last_used_at: null,
    });
    return { key: toView(row, this.clock.now()), secret };
  }

  /** Resolves `Authorization: Bearer <key>` or HTTP Basic with the key as user name. */
  async authenticate(authorization: string | undefined): Promise<MerchantPrincipal> {
    try {
      return await this.resolve(authorization);
    } catch (error) {
      if (error instanceof AuthenticationError) {
        this.onFailure(error.reason);
        throw toHttpError(error, authorization);
      }
      throw error;
    }
  }

  private async resolve(authorization: string | undefined): Promise<MerchantPrincipal> {
    const secret = extractKey(authorization);
    const mode = keyModeOf(secret);
    if (!mode) throw new AuthenticationError('malformed');
    const hash = sha256Hex(secret);
    const now = this.clock.now();
    const cached = this.cache.get(hash);
    let row = cached && Date.now() - cached.fetchedAt < CACHE_TTL_MS ? cached.row : undefined;
    if (!row || !cached) {
      row = await findKeyByHash(this.db, hash);
      this.cache.set(hash, { row, fetchedAt: Date.now() });
      if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value as string);
    }
    if (!row) throw new AuthenticationError('unknown');
    if (row.revoked_at && row.revoked_at <= now) throw new AuthenticationError('revoked');
    if (row.expires_at && row.expires_at <= now) throw new AuthenticationError('expired');
    this.touch(row.id, now);
    return {
      merchantId: row.merchant_id,
      livemode: row.livemode,
      keyId: row.id,
      keyKind: row.kind,
      scopes: row.scopes,
    };
  }

  /**
   * Records last use at most once a minute per key and replica, off the request's path: a busy key costs
   * one UPDATE a minute, not one per request. Minutes are the service clock's, like last_used_at itself.
   */
  private touch(id: string, now: Date): void {
    const last = this.lastTouched.get(id);
    if (last !== undefined && now.getTime() - last < TOUCH_INTERVAL_MS) return;
    if (this.lastTouched.size > 10_000) this.lastTouched.clear();
    this.lastTouched.set(id, now.getTime());
    touchKey(this.db, id, now).catch((error) => this.logger.warn({ err: error }, 'could not record key use'));
  }

  async list(merchantId?: string): Promise<ApiKeyView[]> {
    const now = this.clock.now();
    return (await listKeys(this.db, merchantId)).map((row) => toView(row, now));
  }

  async revoke(id: string): Promise<{ before: ApiKeyView; after: ApiKeyView }> {
    const before = await findKeyById(this.db, id);
    if (!before) throw resourceMissing('api_key', id, 'id');
    const after = await setKeyRevoked(this.db, id, this.clock.now());
    if (!after) throw invalidParam('id', `The API key ${id} is already revoked.`, 'api_key_revoked');
    this.cache.clear();
    const now = this.clock.now();
    return { before: toView(before, now), after: toView(after, now) };
  }

  /** Issues a replacement key of the same kind; the old key keeps working until the overlap ends. */
  async rotate(id: string, overlapSeconds: number) {
    const old = await findKeyById(this.db, id);
    if (!old) throw resourceMissing('api_key', id, 'id');
    if (old.revoked_at)
      throw invalidParam('id', `The API key ${id} is revoked and cannot be rotated.`, 'api_key_revoked');
    const created = await this.create(old.merchant_id, {
      kind: old.kind,
      livemode: old.livemode,
      name: old.name ?? undefined,
      scopes: old.scopes ?? undefined,
    });
    const overlapEnd = new Date(this.clock.now().getTime() + overlapSeconds * 1000);
    const expiresAt = !old.expires_at || old.expires_at > overlapEnd ? overlapEnd : old.expires_at;
    await setKeyReplaced(this.db, id, created.key.id, expiresAt);
    this.cache.clear();
    return { ...created, previous: { id, expires_at: unixSeconds(overlapEnd) } };
  }

  /** Keys a rotation of keys older than `days` would take: secret and restricted, working, not yet replaced. */
  async rotationDue(days: number): Promise<ApiKeyView[]> {
    const now = this.clock.now();
    const before = new Date(now.getTime() - days * 86_400_000);
    return (await listRotationDue(this.db, before, now)).map((row) => toView(row, now));
  }

  async findBySecret(
    secret: string,
    executor: Kysely<Database> | Transaction<Database> = this.db,
  ): Promise<ApiKeyRow | undefined> {
    return findKeyByHash(executor, sha256Hex(secret));
  }
}

function extractKey(authorization: string | undefined): string {
  if (!authorization) throw new AuthenticationError('missing');
  const [scheme, value] = authorization.trim().split(/\s+/, 2);
  if (!scheme || !value) throw new AuthenticationError('malformed');
  if (scheme.toLowerCase() === 'bearer') return value;
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    return decoded.split(':', 1)[0] ?? '';
  }
  throw new AuthenticationError('malformed');
}

function toHttpError(error: AuthenticationError, authorization: string | undefined) {
  switch (error.reason) {
    case 'missing':
      return authenticationFailed(
        "You did not provide an API key. Provide it in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        'api_key_missing',
      );
    case 'revoked':
      return authenticationFailed('This API key has been revoked.', 'api_key_revoked');
    case 'expired':
      return authenticationFailed('This API key has expired.', 'api_key_expired');
    default: {
      const given = authorization ? extractLast4(authorization) : '';
      return authenticationFailed(`Invalid API Key provided: ${given}`, 'api_key_invalid');
    }
  }
}

/** Never echo a presented key whole: its prefix and last four characters, and only if it is long. */
function extractLast4(authorization: string): string {
  let key = '';
  try {
    key = extractKey(authorization);
  } catch {
    return '****';
  }
  const prefix = /^[a-z]{2}_(test|live)_/.exec(key)?.[0] ?? '';
  // A short string would be shown almost whole by its last four characters.
  const tail = key.length - prefix.length >= 16 ? key.slice(-4) : '';
  return `${prefix}${'*'.repeat(8)}${tail}`;
}

export function toView(row: ApiKeyRow, now: Date): ApiKeyView {
  return {
    id: row.id,
    object: 'api_key',
    kind: row.kind,
    livemode: row.livemode,
    name: row.name,
    redacted: `${row.prefix}...${row.last4}`,
    scopes: row.scopes,
    created: unixSeconds(row.created_at),
    expires_at: row.expires_at ? unixSeconds(row.expires_at) : null,
    revoked_at: row.revoked_at ? unixSeconds(row.revoked_at) : null,
    last_used_at: row.last_used_at ? unixSeconds(row.last_used_at) : null,
    age_days: Math.floor((now.getTime() - row.created_at.getTime()) / 86_400_000),
    replaced_by: row.replaced_by,
  };
}
