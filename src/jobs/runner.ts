// Runs jobs from the jobs table: enqueue inside the caller's transaction (so the jobs table is also the
// transactional outbox), claim with FOR UPDATE SKIP LOCKED, retry with backoff, dead-letter after the
// last attempt, and turn interval schedules into jobs. Several processes share the work safely.
import { hostname } from 'node:os';
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { randomBase62 } from '../ids.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { backoffMs, type JobDefinition } from './jobs.js';
import {
  claimJobs,
  completeJob,
  insertJob,
  killJob,
  queueDepth,
  rescheduleJob,
  takeDueSchedules,
  upsertSchedule,
} from './jobs.repository.js';
import type { JobRow } from './jobs.table.js';

const DEFAULT_MAX_ATTEMPTS = 10;
const DEFAULT_LEASE_MS = 60_000;

export interface EnqueueOptions {
  runAt?: Date;
  uniqueKey?: string;
  maxAttempts?: number;
}

export interface RunnerOptions {
  db: Kysely<Database>;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  pollIntervalMs: number;
  concurrency: number;
}

export class JobRunner {
  readonly workerId = `${hostname()}:${process.pid}:${randomBase62(6)}`;
  private readonly definitions = new Map<string, JobDefinition>();
  private readonly running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = true;
  private wakeRequested = false;
  /** When the loop last completed a poll; /health/detailed reports it. */
  lastPollAt: Date | undefined;
  lastPollError: string | undefined;

  constructor(private readonly options: RunnerOptions) {}

  register(definition: JobDefinition): void {
    if (this.definitions.has(definition.name))
      throw new Error(`job ${definition.name} is already registered`);
    this.definitions.set(definition.name, definition);
  }

  /** Adds a job in `executor`'s transaction, so it commits (or not) with the change that caused it. */
  async enqueue(
    executor: Kysely<Database> | Transaction<Database>,
    name: string,
    payload: unknown,
    options: EnqueueOptions = {},
  ): Promise<number | undefined> {
    const definition = this.definitions.get(name);
    if (!definition) throw new Error(`unknown job ${name}`);
    definition.payload.parse(payload);
    const now = this.options.clock.now();
    const id = await insertJob(executor, {
      name,
      payload: { v: definition.version, data: payload },
      runAt: options.runAt ?? now,
      maxAttempts: options.maxAttempts ?? definition.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      uniqueKey: options.uniqueKey,
      createdAt: now,
    });
    this.wake();
    return id;
  }

  /** Declares a recurring job; every replica may declare it, the slot runs once. */
  async schedule(
    name: string,
    jobName: string,
    intervalSeconds: number,
    payload: unknown = {},
  ): Promise<void> {
    const firstRunAt = new Date(this.options.clock.now().getTime() + intervalSeconds * 1000);
    await upsertSchedule(this.options.db, { name, jobName, intervalSeconds, payload, firstRunAt });
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop();
  }

  /** Stops claiming and waits for running jobs (up to `timeoutMs`); unfinished ones return after their lease. */
  async stop(timeoutMs = 25_000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    const drained = Promise.allSettled([...this.running]);
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
  }

  get isRunning(): boolean {
    return !this.stopped;
  }

  /** One poll: materialise due schedules, claim and run what is due. Returns how many jobs it started. */
  async runOnce(): Promise<number> {
    const { db, clock } = this.options;
    await db.transaction().execute(async (trx) => {
      for (const due of await takeDueSchedules(trx, clock.now())) {
        if (!this.definitions.has(due.job_name)) continue;
        const payload = due.payload as { [key: string]: unknown };
        await insertJob(trx, {
          name: due.job_name,
          payload: { v: this.definitions.get(due.job_name)?.version ?? 1, data: payload },
          runAt: due.slot,
          maxAttempts: this.definitions.get(due.job_name)?.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
          uniqueKey: `schedule:${due.name}:${due.slot.toISOString()}`,
          createdAt: clock.now(),
        });
      }
    });
    const free = this.options.concurrency - this.running.size;
    if (free <= 0) return 0;
    const now = clock.now();
    const maxLease = Math.max(...[...this.definitions.values()].map((d) => d.leaseMs ?? DEFAULT_LEASE_MS));
    const claimed = await claimJobs(
      db,
      this.workerId,
      now,
      new Date(now.getTime() + maxLease),
      [...this.definitions.keys()],
      free,
    );
    for (const job of claimed) {
      const run = this.execute(job).finally(() => this.running.delete(run));
      this.running.add(run);
    }
    this.lastPollAt = clock.now();
    return claimed.length;
  }

  async depth() {
    return queueDepth(this.options.db, this.options.clock.now());
  }

  private async execute(job: JobRow): Promise<void> {
    const { db, clock, logger, metrics } = this.options;
    const definition = this.definitions.get(job.name);
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      if (!definition) throw new Error(`no handler registered for ${job.name}`);
      const envelope = job.payload as { v?: number; data?: unknown };
      const payload = definition.payload.parse(envelope.data);
      await definition.handler(payload, { jobId: job.id, attempt: job.attempts, now: clock.now() });
      await completeJob(db, job.id, this.workerId);
      metrics.jobDuration.observe({ job: job.name, outcome: 'succeeded' }, elapsed());
      metrics.jobsProcessed.inc({ job: job.name, outcome: 'succeeded' });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const dead = job.attempts >= job.max_attempts;
      try {
        if (dead) await killJob(db, job.id, this.workerId, clock.now(), message.slice(0, 2000));
        else {
          const retryAt = new Date(clock.now().getTime() + backoffMs(job.attempts));
          await rescheduleJob(db, job.id, this.workerId, retryAt, message.slice(0, 2000));
        }
      } catch (recordError) {
        // The lease will expire and another attempt will follow; nothing is lost.
        logger.error({ err: recordError, job_id: job.id }, 'could not record job failure');
      }
      const outcome = dead ? 'dead' : 'retried';
      metrics.jobDuration.observe({ job: job.name, outcome }, elapsed());
      metrics.jobsProcessed.inc({ job: job.name, outcome });
      logger.warn(
        { job: job.name, job_id: job.id, attempt: job.attempts, outcome, error: message },
        'job failed',
      );
    }
  }

  private loop(): void {
    this.timer = undefined;
    if (this.stopped) return;
    this.ticking = this.runOnce()
      .then((started) => {
        this.lastPollError = undefined;
        return started;
      })
      .catch((error) => {
        this.lastPollError = error instanceof Error ? error.message : String(error);
        this.options.logger.warn({ err: error }, 'job poll failed; retrying');
        return 0;
      })
      .then((started) => {
        if (this.stopped) return;
        // When a poll found work, look again at once; otherwise wait for the interval or a wake-up.
        const more = started > 0 && this.running.size < this.options.concurrency;
        const delay = more || this.wakeRequested ? 0 : this.options.pollIntervalMs;
        this.wakeRequested = false;
        this.timer = setTimeout(() => this.loop(), delay);
      });
  }

  /** An enqueue in this process shortens the wait for the next poll. */
  private wake(): void {
    if (this.stopped) return;
    if (!this.timer) {
      // A poll is under way: make the next one start at once.
      this.wakeRequested = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.loop(), 5);
  }
}
