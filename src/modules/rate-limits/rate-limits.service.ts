// Request rate limits (issue 9): per API key, RATE_LIMIT_PER_KEY_PER_SECOND (100, Stripe's live-mode
// limit) unless the key has its own; per shopper on payment creation, RATE_LIMIT_PER_SHOPPER_PER_MINUTE
// (100, runbook 002's "per user") keyed by the customer, or by `shopper_ip` when there is no customer.
// Counters are shared through Redis when REDIS_URL is set (see limiter.ts for what happens without it).
// A refusal is Stripe's 429 `rate_limit_error` with Retry-After.
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import client from 'prom-client';
import type { Clock } from '../../clock.js';
import { RefreshingSnapshot } from '../../db/refreshing-snapshot.js';
import type { Database } from '../../db/schema.js';
import { AppError, resourceMissing } from '../../http/errors.js';
import type { Logger } from '../../observability/logger.js';
import type { AuditActor, AuditOrigin } from '../audit/audit.js';
import type { AuditService } from '../audit/audit.service.js';
import { Limiter } from './limiter.js';
import {
  deleteKeyRateLimit,
  findKeyRateLimit,
  keyExists,
  listKeyRateLimits,
  upsertKeyRateLimit,
} from './rate-limits.repository.js';

export interface RateLimitSettings {
  perKeyPerSecond: number;
  perShopperPerMinute: number;
  /** How stale a replica's copy of the per-key limits may be. */
  refreshMs: number;
}

export interface RateLimitsDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  logger: Logger;
  redis: Redis | undefined;
  registry: client.Registry;
  settings: RateLimitSettings;
}

export interface KeyRateLimitObject {
  object: 'api_key_rate_limit';
  key: string;
  per_second: number;
  /** True when the key has no limit of its own and RATE_LIMIT_PER_KEY_PER_SECOND applies. */
  default: boolean;
}

export class RateLimitsService {
  /** One limiter per allowance in use: rate-limiter-flexible fixes the points per limiter. */
  private readonly keyLimiters = new Map<number, Limiter>();
  private readonly shopperLimiter: Limiter;
  private readonly overrides: RefreshingSnapshot<ReadonlyMap<string, number>>;
  private readonly limited: client.Counter<'limit'>;

  constructor(private readonly deps: RateLimitsDeps) {
    this.shopperLimiter = new Limiter({
      redis: deps.redis,
      prefix: 'rl:shopper',
      points: deps.settings.perShopperPerMinute,
      durationSeconds: 60,
    });
    this.overrides = new RefreshingSnapshot<ReadonlyMap<string, number>>({
      initial: new Map(),
      ttlMs: deps.settings.refreshMs,
      read: async () =>
        new Map((await listKeyRateLimits(deps.db)).map((row) => [row.key_id, row.per_second])),
      onReadError: (error) =>
        deps.logger.warn({ err: error }, 'key rate limits unreadable; keeping the last ones'),
    });
    this.limited = new client.Counter({
      name: 'rate_limited_requests_total',
      help: 'Requests refused with 429 by a rate limit (per_key, per_shopper)',
      labelNames: ['limit'],
      registers: [deps.registry],
    });
  }

  async load(): Promise<void> {
    await this.overrides.get();
  }

  /** Counts one request of the key; throws the 429 when its allowance for this second is spent. */
  async checkKey(keyId: string): Promise<void> {
    const perSecond = this.overrides.peek().get(keyId) ?? this.deps.settings.perKeyPerSecond;
    let limiter = this.keyLimiters.get(perSecond);
    if (!limiter) {
      limiter = new Limiter({
        redis: this.deps.redis,
        prefix: `rl:key:${perSecond}`,
        points: perSecond,
        durationSeconds: 1,
      });
      this.keyLimiters.set(perSecond, limiter);
    }
    const verdict = await limiter.consume(keyId);
    if (verdict.allowed) return;
    this.limited.inc({ limit: 'per_key' });
    throw tooManyRequests(
      'Too many requests hit the API too quickly with this key. Retry after the time in Retry-After.',
      verdict.retryAfterSeconds,
      true,
    );
  }

  /** Counts one payment creation for the shopper (the customer, else the shopper's address), if named. */
  async checkShopper(
    scope: { merchantId: string; livemode: boolean },
    customer: string | undefined,
    shopperIp: string | undefined,
  ): Promise<void> {
    const shopper = customer ? `customer:${customer}` : shopperIp ? `ip:${shopperIp}` : undefined;
    if (!shopper) return;
    const verdict = await this.shopperLimiter.consume(`${scope.merchantId}:${scope.livemode}:${shopper}`);
    if (verdict.allowed) return;
    this.limited.inc({ limit: 'per_shopper' });
    throw tooManyRequests(
      `Too many payments for this ${customer ? 'customer' : 'shopper_ip'} in a minute. Retry after the time in Retry-After.`,
      verdict.retryAfterSeconds,
      false,
      customer ? 'customer' : 'shopper_ip',
    );
  }

  async keyLimit(keyId: string): Promise<KeyRateLimitObject> {
    if (!(await keyExists(this.deps.db, keyId))) throw resourceMissing('api_key', keyId, 'id');
    const own = await findKeyRateLimit(this.deps.db, keyId);
    return this.toObject(keyId, own?.per_second);
  }

  /** Sets the key's own limit, or (null) returns it to the default. Audited. */
  async setKeyLimit(
    keyId: string,
    perSecond: number | null,
    actor: AuditActor,
    origin?: AuditOrigin,
  ): Promise<KeyRateLimitObject> {
    const { db, clock, audit } = this.deps;
    await db.transaction().execute(async (trx) => {
      if (!(await keyExists(trx, keyId))) throw resourceMissing('api_key', keyId, 'id');
      const before = await findKeyRateLimit(trx, keyId);
      if (perSecond === null) await deleteKeyRateLimit(trx, keyId);
      else
        await upsertKeyRateLimit(trx, {
          key_id: keyId,
          per_second: perSecond,
          updated_at: clock.now(),
          updated_by: actor.id,
        });
      await audit.record(
        {
          actor,
          action: 'api_key.rate_limit',
          resourceType: 'api_key',
          resourceId: keyId,
          outcome: 'success',
          origin,
          oldValue: { per_second: before?.per_second ?? null },
          newValue: { per_second: perSecond },
        },
        trx,
      );
    });
    await this.overrides.reload();
    return this.toObject(keyId, perSecond ?? undefined);
  }

  private toObject(keyId: string, own: number | undefined): KeyRateLimitObject {
    return {
      object: 'api_key_rate_limit',
      key: keyId,
      per_second: own ?? this.deps.settings.perKeyPerSecond,
      default: own === undefined,
    };
  }
}

function tooManyRequests(message: string, retryAfterSeconds: number, shouldRetry: boolean, param?: string) {
  return new AppError(429, 'rate_limit_error', 'rate_limit', message, {
    shouldRetry,
    headers: { 'Retry-After': String(retryAfterSeconds) },
    ...(param ? { param } : {}),
  });
}
