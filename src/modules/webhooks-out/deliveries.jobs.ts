// The delivery job: one attempt of one delivery, in its own `webhooks` pool so slow receivers never
// hold the payment jobs' slots. Its lease outlasts the HTTP timeout, so a live attempt is never
// taken over; a crashed worker's attempt is made again once the lease passes (at-least-once).
import { z } from 'zod';
import { defineJob } from '../../jobs/jobs.js';
import { DELIVER_JOB, type WebhookDeliveries } from './deliveries.service.js';

export const WEBHOOK_POOL = 'webhooks';

export function deliverWebhookJob(deliveries: WebhookDeliveries, timeoutMs: number) {
  return defineJob({
    name: DELIVER_JOB,
    version: 1,
    payload: z.object({ delivery: z.string(), step: z.number().int().min(0) }),
    pool: WEBHOOK_POOL,
    leaseMs: timeoutMs + 30_000,
    maxAttempts: 5,
    handler: ({ delivery, step }) => deliveries.attempt(delivery, step),
  });
}
