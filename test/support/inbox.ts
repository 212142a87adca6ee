// Helpers for inbound webhook tests: row counts of what a delivery may write (the inbox, its processing
// jobs, our events), and waits on the inbox's processing.
import { sql } from 'kysely';
import { PROCESS_INBOX_JOB } from '../../src/modules/webhooks-in/webhook-inbox.service.js';
import type { TestService } from './service.js';
import { waitFor } from './wait.js';

/** What an inbound delivery could write: inbox rows, processing jobs, events, subject leases. */
export async function writeCounts(t: TestService) {
  const db = t.service.database.db;
  const count = async (query: ReturnType<typeof sql<{ n: number }>>) =>
    Number((await query.execute(db)).rows[0]?.n ?? 0);
  return {
    inbox: await count(sql<{ n: number }>`select count(*)::int as n from webhook_inbox`),
    jobs: await count(
      sql<{ n: number }>`select count(*)::int as n from jobs where name = ${PROCESS_INBOX_JOB}`,
    ),
    events: await count(sql<{ n: number }>`select count(*)::int as n from events`),
    locks: await count(sql<{ n: number }>`select count(*)::int as n from webhook_subject_locks`),
  };
}

/**
 * Waits until no inbox row is pending (every stored event has been processed, ignored or has failed)
 * and no processing job is still held by a worker: the job row is deleted just after the handler marks
 * the inbox row done, so a count taken in between would still see it.
 */
export async function inboxSettled(t: TestService, timeoutMs = 15_000) {
  const db = t.service.database.db;
  await waitFor(
    'the inbox to be processed',
    async () => {
      const open = await db
        .selectFrom('webhook_inbox')
        .select(sql<number>`count(*)::int`.as('n'))
        .where('status', '=', 'pending')
        .executeTakeFirstOrThrow();
      if (open.n !== 0) return false;
      const running = await db
        .selectFrom('jobs')
        .select(sql<number>`count(*)::int`.as('n'))
        .where('name', '=', PROCESS_INBOX_JOB)
        .where('locked_by', 'is not', null)
        .executeTakeFirstOrThrow();
      return running.n === 0;
    },
    timeoutMs,
  );
}

export async function inboxRows(t: TestService, providerEventIds?: string[]) {
  let query = t.service.database.db.selectFrom('webhook_inbox').selectAll();
  if (providerEventIds) {
    if (providerEventIds.length === 0) return [];
    query = query.where('provider_event_id', 'in', providerEventIds);
  }
  return query.orderBy('received_at').execute();
}
