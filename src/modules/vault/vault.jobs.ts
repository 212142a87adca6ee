// The scheduled job that deletes CVCs past their expiry (at most 1 h after they were given).
import { z } from 'zod';
import { defineJob } from '../../jobs/jobs.js';
import type { VaultService } from './vault.service.js';

export const PURGE_CVCS_JOB = 'vault.purge_expired_cvcs';
export const PURGE_CVCS_INTERVAL_SECONDS = 60;

export function purgeExpiredCvcsJob(vault: VaultService) {
  return defineJob({
    name: PURGE_CVCS_JOB,
    version: 1,
    payload: z.object({}),
    handler: async (_payload, context) => {
      await vault.purgeExpiredCvcs(context.now);
    },
  });
}
