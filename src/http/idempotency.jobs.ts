// Background work for idempotency keys: the completer (settles requests whose process died) and the
// purge of keys past their 72 h retention, in batches so the table never takes a long lock.
import { z } from 'zod';
import { defineJob } from '../jobs/jobs.js';
import type { IdempotencyHandle, IdempotencyService } from './idempotency.js';

export const COMPLETE_ABANDONED_JOB = 'idempotency.complete_abandoned';
export const PURGE_KEYS_JOB = 'idempotency.purge_expired';

/** Keyed by `METHOD /route/template`; payments register theirs so an abandoned confirm is finished, not failed. */
export type Completers = Map<
  string,
  (handle: IdempotencyHandle, endpoint: string) => Promise<{ status: number; body: unknown }>
>;

export function idempotencyJobs(idempotency: IdempotencyService, completers: Completers) {
  return [
    defineJob({
      name: COMPLETE_ABANDONED_JOB,
      version: 1,
      payload: z.object({}).passthrough(),
      maxAttempts: 3,
      handler: async () => {
        while ((await idempotency.completeAbandoned(completers)) === 100) {
          // Keep going while full batches come back.
        }
      },
    }),
    defineJob({
      name: PURGE_KEYS_JOB,
      version: 1,
      payload: z.object({}).passthrough(),
      maxAttempts: 3,
      handler: async () => {
        while ((await idempotency.purgeExpired(5_000)) === 5_000) {
          // Batches keep each delete short.
        }
      },
    }),
  ];
}
