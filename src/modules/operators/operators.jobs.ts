// The daily sweep that disables operator accounts unused for 90 days (PCI DSS 8.2.6). Logins check
// the same rule, so an account is never usable past 90 days even between sweeps.
import { z } from 'zod';
import { defineJob } from '../../jobs/jobs.js';
import type { OperatorSecurity } from './operator-security.js';

export const DISABLE_INACTIVE_JOB = 'operators.disable_inactive';
export const DISABLE_INACTIVE_INTERVAL_SECONDS = 86_400;

export function disableInactiveJob(security: OperatorSecurity) {
  return defineJob({
    name: DISABLE_INACTIVE_JOB,
    version: 1,
    payload: z.object({}),
    handler: async (_payload, context) => {
      await security.disableInactiveAccounts(context.now);
    },
  });
}
