// The refund settlement job: refunds whose outcome is unknown are sent again (same key) on a backoff.
import { z } from 'zod';
import { defineJob } from '../../jobs/jobs.js';
import type { RefundRecovery } from './refunds.recovery.js';

export const SETTLE_REFUNDS_JOB = 'refunds.settle_refunds';
export const SETTLE_REFUNDS_INTERVAL_SECONDS = 15;

export function settleRefundsJob(recovery: RefundRecovery) {
  return defineJob({
    name: SETTLE_REFUNDS_JOB,
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
