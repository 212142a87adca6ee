// The inbound webhook inbox (issue 6): a verified event is stored once and a processing job enqueued in
// the same statement, so the provider gets its 200 as soon as the event is durable. The job runs the
// dispatcher's handlers under a lease on the event's subject (one payment's events are processed one at
// a time, on PGlite and across PostgreSQL processes), records the outcome on the row, and on failure
// lets the runner retry with backoff; the row turns `dead` with the job's last attempt. Operators list
// and replay rows; retention drops whole months of rows (src/modules/partitions).
import type { Kysely } from 'kysely';
import type Stripe from 'stripe';
import type { Clock } from '../../clock.js';
import { Batcher } from '../../db/batcher.js';
import type { Database } from '../../db/schema.js';
import { newId } from '../../ids.js';
import { discardDeadJobs, type NewJob } from '../../jobs/jobs.repository.js';
import type { JobRunner } from '../../jobs/runner.js';
import type { Logger } from '../../observability/logger.js';
import type { PayPalWebhookEvent } from '../../providers/paypal/paypal.types.js';
import { toProviderEvent as paypalEvent } from '../../providers/paypal/paypal.webhook.js';
import type { ProviderEvent, ProviderName } from '../../providers/provider.js';
import { toProviderEvent as stripeEvent } from '../../providers/stripe/stripe.transformers.js';
import type { AuditActor, AuditOrigin } from '../audit/audit.js';
import type { AuditService } from '../audit/audit.service.js';
import type { InboxMetrics, ProcessingOutcome } from './webhook-inbox.metrics.js';
import {
  acquireSubjectLock,
  beginAttemptsLocked,
  countOpen,
  findInboxRow,
  finishInboxRow,
  finishInboxRowsReleasing,
  type InboxFilters,
  insertInboxRowsWithJobs,
  type LeaseRequest,
  listInboxRows,
  type NewInboxRow,
  purgeExpiredSubjectLocks,
  releaseSubjectLock,
  takeForReplay,
} from './webhook-inbox.repository.js';
import type { InboxRow, InboxStatus } from './webhook-inbox.table.js';
import type { WebhookDispatcher } from './webhooks-in.js';

export const PROCESS_INBOX_JOB = 'webhooks_in.process';
export const PURGE_INBOX_JOB = 'webhooks_in.purge';
/** Every six hours, expired subject leases are cleared (the rows go by partition, see purge()). */
export const PURGE_INBOX_INTERVAL_SECONDS = 6 * 3600;
/** A subject's lease outlives any handler (the payment handler waits at most 2 s, provider calls are bounded). */
const SUBJECT_LEASE_MS = 60_000;
/** How long a job waits for another job to finish with the same subject before it fails and retries. */
const SUBJECT_WAIT_MS = 15_000;
const SUBJECT_POLL_MS = 15;
const REPLAY_BATCH = 500;
/**
 * Accepts arriving while others are being stored go in one statement: at most this many statements
 * in flight (pool connections taken by the inbound route), of at most ACCEPT_BATCH events each.
 */
const ACCEPT_STATEMENTS = 4;
const ACCEPT_BATCH = 100;
/** The same for the processing jobs starting (attempt and lease) and finishing (outcome and release). */
const PROCESS_STATEMENTS = 2;
const PROCESS_BATCH = 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface InboxDeps {
  db: Kysely<Database>;
  clock: Clock;
  runner: JobRunner;
  dispatcher: WebhookDispatcher;
  audit: AuditService;
  logger: Logger;
  metrics: InboxMetrics;
  maxAttempts: number;
}

export interface ReplaySelection {
  id?: string | undefined;
  status?: 'dead' | 'failed' | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

/** What the event is about: the provider's payment object when the connector names one. */
export function subjectOf(event: ProviderEvent): string {
  if (event.providerPaymentId) return event.providerPaymentId;
  const object =
    (event.payload as { data?: { object?: { id?: unknown } } })?.data?.object?.id ??
    (event.payload as { resource?: { id?: unknown } })?.resource?.id;
  return typeof object === 'string' && object ? object : event.providerEventId;
}

/** The event again from its stored payload, through the same mapping the connector used. */
export function eventFromRow(row: InboxRow): ProviderEvent {
  if (row.provider === 'stripe') return stripeEvent(row.payload as Stripe.Event);
  return paypalEvent(row.payload as PayPalWebhookEvent, row.payload);
}

export class WebhookInboxService {
  private readonly inserts: Batcher<{ row: NewInboxRow; job: NewJob }, string | undefined>;
  private readonly starts: Batcher<
    { id: string; lease: LeaseRequest },
    { row: InboxRow; locked: boolean } | undefined
  >;
  private readonly finishes: Batcher<Parameters<typeof finishInboxRowsReleasing>[1][number], void>;

  constructor(private readonly deps: InboxDeps) {
    this.inserts = new Batcher((inputs) => insertInboxRowsWithJobs(deps.db, inputs), {
      maxBatch: ACCEPT_BATCH,
      concurrency: ACCEPT_STATEMENTS,
    });
    const processing = { maxBatch: PROCESS_BATCH, concurrency: PROCESS_STATEMENTS };
    this.starts = new Batcher((inputs) => beginAttemptsLocked(deps.db, inputs), processing);
    this.finishes = new Batcher(async (inputs) => {
      await finishInboxRowsReleasing(deps.db, inputs);
      return inputs.map(() => undefined);
    }, processing);
  }

  static counts(db: Kysely<Database>) {
    return () => countOpen(db);
  }

  /**
   * Stores a verified event and enqueues its processing: one statement inserting both rows, shared
   * with the other events arriving meanwhile (a burst is stored in batches).
   */
  async accept(provider: ProviderName, event: ProviderEvent): Promise<{ duplicate: boolean }> {
    const { clock, runner } = this.deps;
    const id = newId('whin');
    const job = runner.prepare(PROCESS_INBOX_JOB, { id });
    const inserted = await this.inserts.submit({
      row: {
        id,
        provider,
        providerEventId: event.providerEventId,
        type: event.type,
        subject: subjectOf(event),
        payload: event.payload,
        occurredAt: event.occurredAt,
        receivedAt: clock.now(),
      },
      job,
    });
    if (!inserted) return { duplicate: true };
    // Committed: the poll this starts sees the job.
    runner.wake(runner.poolOf(PROCESS_INBOX_JOB));
    return { duplicate: false };
  }

  /**
   * The job: run the handlers for one stored event, under its subject's lease. Counting the attempt
   * and taking the lease is one statement, and so are recording the outcome and releasing the lease;
   * each is shared with the other jobs starting or finishing at that moment.
   */
  async process(id: string, attempt: number, maxAttempts: number): Promise<void> {
    const { db, clock, dispatcher, logger, metrics } = this.deps;
    const holder = newId('lease', 16);
    const at = clock.now();
    const begun = await this.starts.submit({
      id,
      lease: { holder, now: at, expiresAt: new Date(at.getTime() + SUBJECT_LEASE_MS) },
    });
    // Purged, or already done by another job (a replay of a row whose retry was still queued).
    if (!begun) return;
    const { row } = begun;
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    const lock = { provider: row.provider, subject: row.subject, holder };
    let locked = begun.locked;
    try {
      if (!locked) {
        await this.lockSubject(lock);
        locked = true;
      }
      const handled = await dispatcher.dispatch(row.provider, eventFromRow(row));
      const now = clock.now();
      const outcome: ProcessingOutcome = handled ? 'processed' : 'ignored';
      await this.finishes.submit({
        id,
        outcome: { status: outcome, processedAt: now, error: null },
        release: lock,
      });
      locked = false;
      metrics.processing.observe({ provider: row.provider, outcome }, seconds());
      metrics.lag.observe(
        { provider: row.provider },
        Math.max(0, (now.getTime() - row.received_at.getTime()) / 1000),
      );
    } catch (error) {
      const message = (error instanceof Error ? error.message : String(error)).slice(0, 2000);
      // The runner dead-letters the job after its last attempt; the row says the same.
      const outcome: ProcessingOutcome = attempt >= maxAttempts ? 'dead' : 'failed';
      await finishInboxRow(
        db,
        id,
        { status: outcome, processedAt: null, error: message },
        locked ? lock : undefined,
      ).then(
        () => {
          locked = false;
        },
        (recordError) => logger.error({ err: recordError, inbox_id: id }, 'could not record webhook failure'),
      );
      metrics.processing.observe({ provider: row.provider, outcome }, seconds());
      throw error;
    } finally {
      if (locked) await releaseSubjectLock(db, lock).catch(() => {});
    }
  }

  /**
   * Waits for the subject's lease. Events of one payment usually arrive together (created, succeeded,
   * charge.succeeded), so a short wait is the common case; a long one means a holder that died, whose
   * lease passes after SUBJECT_LEASE_MS, and the job is retried rather than held.
   */
  private async lockSubject(lock: { provider: string; subject: string; holder: string }): Promise<void> {
    const { db, clock } = this.deps;
    const deadline = Date.now() + SUBJECT_WAIT_MS;
    for (;;) {
      const now = clock.now();
      const expiresAt = new Date(now.getTime() + SUBJECT_LEASE_MS);
      if (await acquireSubjectLock(db, { ...lock, now, expiresAt })) return;
      if (Date.now() > deadline) {
        throw new Error(`another worker is still processing events of ${lock.provider} ${lock.subject}`);
      }
      await sleep(SUBJECT_POLL_MS);
    }
  }

  async find(id: string): Promise<InboxRow | undefined> {
    return findInboxRow(this.deps.db, id);
  }

  async list(filters: InboxFilters, page: { limit: number; startingAfter?: string | undefined }) {
    const { db } = this.deps;
    let after: InboxRow | undefined;
    if (page.startingAfter) {
      after = await findInboxRow(db, page.startingAfter);
      if (!after) return undefined;
    }
    const rows = await listInboxRows(db, filters, { limit: page.limit + 1, after });
    return { rows: rows.slice(0, page.limit), hasMore: rows.length > page.limit };
  }

  /**
   * Puts rows back to pending and enqueues their processing, in batches, each batch in one transaction
   * with its jobs. By id any finished row may be replayed (handlers are idempotent); by status only
   * dead or failed ones. Audited once with the selection and the count.
   */
  async replay(selection: ReplaySelection, actor: AuditActor, origin?: AuditOrigin): Promise<number> {
    const { db, runner, audit } = this.deps;
    const statuses: InboxStatus[] = selection.id
      ? ['dead', 'failed', 'processed', 'ignored']
      : [selection.status ?? 'dead'];
    let replayed = 0;
    for (;;) {
      const batch = await db.transaction().execute(async (trx) => {
        const rows = await takeForReplay(trx, { ...selection, statuses }, REPLAY_BATCH);
        for (const row of rows) await runner.enqueue(trx, PROCESS_INBOX_JOB, { id: row.id });
        await discardDeadJobs(
          trx,
          PROCESS_INBOX_JOB,
          'id',
          rows.map((row) => row.id),
        );
        return rows.length;
      });
      replayed += batch;
      if (batch < REPLAY_BATCH || selection.id) break;
    }
    await audit.record({
      actor,
      action: 'webhook_inbox.replay',
      resourceType: 'webhook_inbox',
      resourceId: selection.id,
      outcome: 'success',
      origin,
      newValue: {
        id: selection.id ?? null,
        status: selection.id ? null : statuses[0],
        from: selection.from?.toISOString() ?? null,
        to: selection.to?.toISOString() ?? null,
        replayed,
      },
    });
    return replayed;
  }

  /**
   * Clears expired subject leases. The inbox rows themselves go with their month's partition
   * (src/modules/partitions, WEBHOOK_INBOX_RETENTION_DAYS), which keeps a month holding pending or
   * failed rows and logs the dead ones it drops unreplayed.
   */
  async purge(now: Date): Promise<void> {
    await purgeExpiredSubjectLocks(this.deps.db, now);
  }
}
