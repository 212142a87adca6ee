// The retry ladder as a pure function: its steps and order, the jitter bounds, Retry-After parsing,
// and the 24 h cap.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  LADDER_SECONDS,
  MAX_ATTEMPTS,
  nextDelayMs,
  parseRetryAfter,
} from '../src/modules/webhooks-out/retry-ladder.js';

describe('retry ladder', () => {
  it('waits 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h after each failed attempt, then gives up', () => {
    const middle = () => 0.5;
    const delays = Array.from({ length: MAX_ATTEMPTS }, (_, i) => nextDelayMs(i + 1, { random: middle }));
    expect(delays).toEqual([
      5_000,
      300_000,
      1_800_000,
      7_200_000,
      18_000_000,
      36_000_000,
      50_400_000,
      72_000_000,
      86_400_000,
      undefined,
    ]);
    expect(MAX_ATTEMPTS).toBe(10);
  });

  it('jitters each step within 10% either side', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: LADDER_SECONDS.length }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, r) => {
          const base = (LADDER_SECONDS[attempt - 1] as number) * 1000;
          const delay = nextDelayMs(attempt, { random: () => r }) as number;
          return delay >= base * 0.9 - 1 && delay <= base * 1.1 + 1;
        },
      ),
    );
  });

  it('waits the longer of Retry-After and the step, never more than 24 h', () => {
    const middle = () => 0.5;
    expect(nextDelayMs(1, { retryAfterMs: 60_000, random: middle })).toBe(60_000);
    expect(nextDelayMs(3, { retryAfterMs: 60_000, random: middle })).toBe(1_800_000);
    expect(nextDelayMs(1, { retryAfterMs: 3 * 86_400_000, random: middle })).toBe(86_400_000);
    expect(nextDelayMs(10, { retryAfterMs: 1000 })).toBeUndefined();
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 01:00:00 GMT', now)).toBe(3_600_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
