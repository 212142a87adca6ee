// The inbox's jobs: processing one stored event (enqueued with the row), and the scheduled purge of
// expired subject leases.
import { z } from 'zod';
import { defineJob } from '../../jobs/jobs.js';
import { PROCESS_INBOX_JOB, PURGE_INBOX_JOB, type WebhookInboxService } from './webhook-inbox.service.js';

/**
 * Inbound processing has its own pool (WEBHOOK_INBOX_CONCURRENCY): a burst of provider events must not
 * wait behind payment jobs, nor hold their slots while a handler reads the provider back.
 */
export const INBOX_POOL = 'webhooks_in';

export function processInboxJob(inbox: WebhookInboxService, maxAttempts: number) {
  return defineJob({
    name: PROCESS_INBOX_JOB,
    version: 1,
    pool: INBOX_POOL,
    payload: z.object({ id: z.string() }),
    maxAttempts,
    handler: async (payload, context) => {
      await inbox.process(payload.id, context.attempt, maxAttempts);
    },
  });
}

export function purgeInboxJob(inbox: WebhookInboxService) {
  return defineJob({
    name: PURGE_INBOX_JOB,
    version: 1,
    payload: z.object({}),
    handler: async (_payload, context) => {
      await inbox.purge(context.now);
    },
  });
}
