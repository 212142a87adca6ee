// The inbox's jobs: processing one stored event (enqueued with the row), and the scheduled purge.
import { z } from 'zod';
import { defineJob } from '../../jobs/jobs.js';
import { PROCESS_INBOX_JOB, PURGE_INBOX_JOB, type WebhookInboxService } from './webhook-inbox.service.js';

export function processInboxJob(inbox: WebhookInboxService, maxAttempts: number) {
  return defineJob({
    name: PROCESS_INBOX_JOB,
    version: 1,
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
