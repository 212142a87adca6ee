// The scheduled job that makes merchant pending funds available once their available_on has passed.
import { z } from 'zod';
import { defineJob } from '../../jobs/jobs.js';
import type { LedgerService } from './ledger.service.js';

export const RELEASE_JOB = 'ledger.release_available';
/** How often the release job looks for due funds; available_on is per transaction, not per run. */
export const RELEASE_INTERVAL_SECONDS = 60;

export function releaseAvailableJob(ledger: LedgerService) {
  return defineJob({
    name: RELEASE_JOB,
    version: 1,
    payload: z.object({}),
    handler: async (_payload, context) => {
      await ledger.releaseDue(context.now);
    },
  });
}
