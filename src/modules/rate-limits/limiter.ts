// One fixed-window counter over rate-limiter-flexible: in Redis when the service has one, so every
// replica draws on the same allowance, else in this process. Redis lost (down, unreachable, flushed) never
// fails a request closed: rate-limiter-flexible hands the call to an in-process insurance limiter with
// the same allowance, so each replica still limits on its own until Redis answers again.
import type { Redis } from 'ioredis';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';

export interface LimiterOptions {
  redis: Redis | undefined;
  /** Names the counters in Redis, e.g. `rl:key:100`. */
  prefix: string;
  points: number;
  durationSeconds: number;
}

export type Verdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export class Limiter {
  private readonly limiter: RateLimiterAbstract;

  constructor(options: LimiterOptions) {
    const shape = { keyPrefix: options.prefix, points: options.points, duration: options.durationSeconds };
    const memory = new RateLimiterMemory(shape);
    this.limiter = options.redis
      ? new RateLimiterRedis({
          ...shape,
          storeClient: options.redis,
          // Not connected: go to the insurance limiter at once instead of waiting for a command to fail.
          rejectIfRedisNotReady: true,
          insuranceLimiter: memory,
        })
      : memory;
  }

  async consume(key: string): Promise<Verdict> {
    try {
      await this.limiter.consume(key);
      return { allowed: true };
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) {
        return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) };
      }
      // Neither Redis nor the insurance limiter answered (not expected): let the request through.
      return { allowed: true };
    }
  }
}
