// The scheduled reconciliation (runbook 004's "every 15 minutes, payments pending more than 10 minutes").
import { z } from 'zod';
import { defineJob } from '../../jobs/jobs.js';
import type { ReconciliationService } from './reconciliation.service.js';

export const RECONCILE_PENDING_JOB = 'reconciliation.pending';
export const RECONCILE_PENDING_INTERVAL_SECONDS = 15 * 60;

export function reconcilePendingJob(reconciliation: ReconciliationService) {
  return defineJob({
    name: RECONCILE_PENDING_JOB,
    version: 1,
    payload: z.object({}).passthrough(),
    maxAttempts: 3,
    // A long pass must not be taken over by another worker while it still runs.
    leaseMs: 10 * 60_000,
    handler: async () => {
      await reconciliation.runPending({ actor: { type: 'system', id: null }, trigger: 'schedule' });
    },
  });
}
