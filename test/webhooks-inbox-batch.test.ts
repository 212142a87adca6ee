// The inbox's batched statements, on both databases: one statement storing several events (and a
// repeat in the same batch) with one job each, and one statement starting several attempts, where
// two events of one subject (or two jobs of one row) never both take the subject's lease.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  beginAttemptsLocked,
  finishInboxRowsReleasing,
  insertInboxRowsWithJobs,
} from '../src/modules/webhooks-in/webhook-inbox.repository.js';
import { PROCESS_INBOX_JOB } from '../src/modules/webhooks-in/webhook-inbox.service.js';
import { startTestService, type TestService } from './support/service.js';

let t: TestService;
const eventTime = new Date('2026-03-01T12:00:00.000Z');
beforeAll(async () => {
  // No job runner: the rows and jobs this test writes stay as written.
  t = await startTestService({ role: 'api' });
});
afterAll(async () => {
  await t.close();
});

// One instant for every input: a provider's repeat of an event carries the event's own time, and the
// inbox's unique key (provider, event id, occurred_at) includes it, so a repeat made a millisecond
// later would be a different event.
function input(id: string, eventId: string, subject: string, now = eventTime) {
  return {
    row: {
      id,
      provider: 'stripe' as const,
      providerEventId: eventId,
      type: 'payment_intent.succeeded',
      subject,
      payload: { id: eventId },
      occurredAt: now,
      receivedAt: now,
    },
    job: t.service.runner.prepare(PROCESS_INBOX_JOB, { id }),
  };
}

describe('inbox batch statements', () => {
  it('stores each event once with one job, a repeat in the same batch being a duplicate', async () => {
    const db = t.service.database.db;
    const stored = await insertInboxRowsWithJobs(db, [
      input('whin_batch_a', 'evt_batch_a', 'pi_batch_1'),
      input('whin_batch_b', 'evt_batch_b', 'pi_batch_1'),
      input('whin_batch_a2', 'evt_batch_a', 'pi_batch_1'),
    ]);
    expect(stored).toEqual(['whin_batch_a', 'whin_batch_b', undefined]);
    const jobs = await sql<{ data: string }>`
      select payload->'data'->>'id' as data from jobs where name = ${PROCESS_INBOX_JOB}
        and payload->'data'->>'id' like 'whin_batch_%' order by 1`.execute(db);
    expect(jobs.rows.map((row) => row.data)).toEqual(['whin_batch_a', 'whin_batch_b']);
  });

  it('gives one subject lease to one holder per batch and counts every attempt', async () => {
    const db = t.service.database.db;
    const now = t.service.clock.now();
    const lease = (holder: string) => ({ holder, now, expiresAt: new Date(now.getTime() + 60_000) });
    const begun = await beginAttemptsLocked(db, [
      { id: 'whin_batch_a', lease: lease('lease_1') },
      { id: 'whin_batch_b', lease: lease('lease_2') },
      { id: 'whin_batch_a', lease: lease('lease_3') },
      { id: 'whin_batch_missing', lease: lease('lease_4') },
    ]);
    expect(begun.map((b) => b && [b.row.id, b.locked])).toEqual([
      ['whin_batch_a', true],
      ['whin_batch_b', false],
      ['whin_batch_a', false],
      undefined,
    ]);
    const attempts = await db
      .selectFrom('webhook_inbox')
      .select(['id', 'attempts'])
      .where('id', 'in', ['whin_batch_a', 'whin_batch_b'])
      .orderBy('id')
      .execute();
    expect(attempts).toEqual([
      { id: 'whin_batch_a', attempts: 2 },
      { id: 'whin_batch_b', attempts: 1 },
    ]);
    // The holder finishes and releases; the lease is free for the next one.
    await finishInboxRowsReleasing(db, [
      {
        id: 'whin_batch_a',
        outcome: { status: 'processed', processedAt: now, error: null },
        release: { provider: 'stripe', subject: 'pi_batch_1', holder: 'lease_1' },
      },
    ]);
    const [next] = await beginAttemptsLocked(db, [{ id: 'whin_batch_b', lease: lease('lease_5') }]);
    expect(next?.locked).toBe(true);
    const [done] = await beginAttemptsLocked(db, [{ id: 'whin_batch_a', lease: lease('lease_6') }]);
    expect(done).toBeUndefined();
  });
});
