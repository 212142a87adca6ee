// When a failed delivery is tried again: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
// 20 h and 24 h after the previous attempt, each +-10% jitter so a recovering receiver is not hit by
// every retry at once. A 429's Retry-After is honoured when longer than the step, capped at 24 h.

/** Delay before attempt n+1 (index n = attempts already made - 1); the first attempt is immediate. */
export const LADDER_SECONDS = [5, 300, 1_800, 7_200, 18_000, 36_000, 50_400, 72_000, 86_400] as const;
export const MAX_ATTEMPTS = LADDER_SECONDS.length + 1;
const MAX_WAIT_MS = 86_400_000;

/**
 * Milliseconds to wait after the attempt numbered `attempt` (1-based) failed, or undefined when it was
 * the last one. `random` in [0, 1) gives the jitter.
 */
export function nextDelayMs(
  attempt: number,
  options: { retryAfterMs?: number | undefined; random?: () => number } = {},
): number | undefined {
  const step = LADDER_SECONDS[attempt - 1];
  if (step === undefined) return undefined;
  const random = options.random ?? Math.random;
  const jittered = Math.round(step * 1000 * (0.9 + 0.2 * random()));
  return Math.min(Math.max(jittered, options.retryAfterMs ?? 0), MAX_WAIT_MS);
}

/** Retry-After as delta-seconds or an HTTP date, relative to `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}
