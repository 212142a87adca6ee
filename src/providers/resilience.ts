// Owns the guards around every provider call. For now one: a deadline per call. A provider's SDK
// timeout only bounds socket inactivity, so a provider that answers a byte at a time could hold a
// payment for minutes; the deadline bounds the whole call. A call past its deadline may still have
// reached the provider, so adapters map DeadlineExceededError to an `unknown` outcome, never to
// `no_charge` (invariant 3). Circuit breakers join here later (cockatiel 3).

export const DEFAULT_PROVIDER_TIMEOUT_MS = 10_000;

export class DeadlineExceededError extends Error {
  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
  ) {
    super(`${operation} did not finish within ${timeoutMs} ms`);
    this.name = 'DeadlineExceededError';
  }
}

/**
 * Runs `call` and rejects with DeadlineExceededError once `timeoutMs` has passed. The call itself is
 * not cancelled (the SDK's own timeout ends the socket); its late result is ignored.
 */
export function withDeadline<T>(operation: string, timeoutMs: number, call: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new DeadlineExceededError(operation, timeoutMs)), timeoutMs);
    let pending: Promise<T>;
    try {
      pending = call();
    } catch (error) {
      clearTimeout(timer);
      reject(error);
      return;
    }
    pending.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
