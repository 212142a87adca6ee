// The scheduled partition maintenance: the coming months made ahead, then retention applied.
import { z } from 'zod';
import { defineJob } from '../../jobs/jobs.js';
import type { PartitionsService } from './partitions.service.js';

export const MAINTAIN_PARTITIONS_JOB = 'partitions.maintain';
/** Every six hours: months are made PARTITIONS_AHEAD_MONTHS ahead, so a missed run or several cost nothing. */
export const MAINTAIN_PARTITIONS_INTERVAL_SECONDS = 6 * 3600;

export function maintainPartitionsJob(partitions: PartitionsService) {
  return defineJob({
    name: MAINTAIN_PARTITIONS_JOB,
    version: 1,
    payload: z.object({}).passthrough(),
    maxAttempts: 3,
    handler: async (_payload, context) => {
      await partitions.ensureAhead(context.now);
      await partitions.applyRetention(context.now);
    },
  });
}
