// The settlement job: attempts waiting for evidence are checked against the provider on a backoff.
import { z } from 'zod';
import { defineJob } from '../../jobs/jobs.js';
import type { PaymentRecovery } from './recovery.js';

export const SETTLE_ATTEMPTS_JOB = 'payments.settle_attempts';
export const SETTLE_ATTEMPTS_INTERVAL_SECONDS = 15;

export function settleAttemptsJob(recovery: PaymentRecovery) {
  return defineJob({
    name: SETTLE_ATTEMPTS_JOB,
    version: 1,
    payload: z.object({}).passthrough(),
    maxAttempts: 3,
    handler: async () => {
      while ((await recovery.runDue(50)).checked === 50) {
        // Keep going while full batches come back.
      }
    },
  });
}
