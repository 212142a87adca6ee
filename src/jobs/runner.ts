// Runs jobs from the jobs table: enqueue inside the caller's transaction (so the jobs table is also the
// transactional outbox), claim with FOR UPDATE SKIP LOCKED, retry with backoff, dead-letter after the
// last attempt, and turn interval schedules into jobs. Several processes share the work safely.
import { hostname } from 'node:os';
import type { Kysely, Transaction } from 'kysely';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { randomBase62 } from '../ids.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { backoffMs, type JobDefinition } from './jobs.js';
import {
  claimJobs,
  completeJobs,
  insertJob,
  killJob,
  type NewJob,
  queueDepth,
  rescheduleJob,
  takeDueSchedules,
  upsertSchedule,
} from './jobs.repository.js';
import type { JobRow } from './jobs.table.js';

const DEFAULT_MAX_ATTEMPTS = 10;
const DEFAULT_LEASE_MS = 60_000;
/** How soon a wake-up makes the next poll start, when the loop is waiting. */
const WAKE_DELAY_MS = 5;
/**
 * The first wait before a woken pool that found nothing looks again, doubling up to the poll interval:
 * an enqueue inside a transaction wakes the loop before its commit, and a poll on another connection
 * cannot see the job until then.
 */
const FIRST_RECHECK_MS = 10;

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
  /** Slots of the default pool. */
  concurrency: number;
  /** Slots of each named pool a job definition may declare (`pool`); an undeclared pool is an error. */
  pools?: Record<string, number>;
}

export const DEFAULT_POOL = 'default';

/** One concurrency pool: its slots, its jobs' leases (which also say which names it claims), in flight. */
interface Pool {
  name: string;
  size: number;
  leases: Map<string, number>;
  running: number;
  /** The last claim filled every free slot, so more work is probably waiting. */
  backlog: boolean;
  /** An enqueue or a freed slot asked for a claim in this pool at the next poll. */
  wanted: boolean;
  /** performance.now() of this pool's last claim. */
  claimedAt: number;
  /** A woken claim found nothing: the wait before looking again (0: no recheck pending). */
  recheckMs: number;
}

export class JobRunner {
  readonly workerId = `${hostname()}:${process.pid}:${randomBase62(6)}`;
  private readonly definitions = new Map<string, JobDefinition>();
  /** Each pool with the lease length of each of its job names, handed to its claims. */
  private readonly pools = new Map<string, Pool>();
  private readonly running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  /** When the pending timer fires (performance.now() time). */
  private timerDueAt = 0;
  private ticking: Promise<void> | undefined;
  private stopped = true;
  private wakeRequested = false;
  /** Jobs finished here and not yet deleted: the next poll's claim deletes them (see claimJobs). */
  private done: number[] = [];
  /** performance.now() of the last poll that took due schedules. */
  private schedulesAt = Number.NEGATIVE_INFINITY;
  /** When the loop last completed a poll; /health/detailed reports it. */
  lastPollAt: Date | undefined;
  lastPollError: string | undefined;

  constructor(private readonly options: RunnerOptions) {
    const sizes = { ...options.pools, [DEFAULT_POOL]: options.concurrency };
    for (const [name, size] of Object.entries(sizes)) {
      if (!Number.isInteger(size) || size < 1) throw new Error(`job pool ${name}: size must be >= 1`);
      this.pools.set(name, {
        name,
        size,
        leases: new Map(),
        running: 0,
        backlog: false,
        wanted: false,
        claimedAt: Number.NEGATIVE_INFINITY,
        recheckMs: 0,
      });
    }
  }

  register(definition: JobDefinition): void {
    if (this.definitions.has(definition.name))
      throw new Error(`job ${definition.name} is already registered`);
    const leaseMs = definition.leaseMs ?? DEFAULT_LEASE_MS;
    if (!Number.isFinite(leaseMs) || leaseMs <= 0)
      throw new Error(`job ${definition.name}: leaseMs must be > 0`);
    const pool = this.pools.get(definition.pool ?? DEFAULT_POOL);
    if (!pool) throw new Error(`job ${definition.name}: unknown pool ${definition.pool}`);
    this.definitions.set(definition.name, definition);
    pool.leases.set(definition.name, leaseMs);
  }

  private definition(name: string): JobDefinition {
    const definition = this.definitions.get(name);
    if (!definition) throw new Error(`unknown job ${name}`);
    return definition;
  }

  private static checkPayload(definition: JobDefinition, payload: unknown): void {
    const parsed = definition.payload.safeParse(payload);
    if (!parsed.success)
      throw new Error(`invalid payload for job ${definition.name}: ${z.prettifyError(parsed.error)}`);
  }

  /** Adds a job in `executor`'s transaction, so it commits (or not) with the change that caused it. */
  async enqueue(
    executor: Kysely<Database> | Transaction<Database>,
    name: string,
    payload: unknown,
    options: EnqueueOptions = {},
  ): Promise<number | undefined> {
    const id = await insertJob(executor, this.prepare(name, payload, options));
    this.wake(this.poolOf(name));
    return id;
  }

  /**
   * The row `enqueue` would insert, checked the same way, for a caller that inserts it within its own
   * statement (`insertJobForEach`) and then calls `wake` with `poolOf(name)`.
   */
  prepare(name: string, payload: unknown, options: EnqueueOptions = {}): NewJob {
    const definition = this.definition(name);
    JobRunner.checkPayload(definition, payload);
    const maxAttempts = options.maxAttempts ?? definition.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
      throw new Error(`job ${name}: maxAttempts must be a positive integer (got ${maxAttempts})`);
    const now = this.options.clock.now();
    return {
      name,
      payload: { v: definition.version, data: payload },
      runAt: options.runAt ?? now,
      maxAttempts,
      uniqueKey: options.uniqueKey,
      createdAt: now,
    };
  }

  /**
   * Asks for a claim in `pool` (in every pool when none is named) soon. A caller that inserted jobs in its
   * own statement (rather than through `enqueue`) calls this after its commit, so the poll it causes sees
   * the jobs.
   */
  wake(pool?: string): void {
    if (pool === undefined) for (const each of this.pools.values()) each.wanted = true;
    else {
      const woken = this.pools.get(pool);
      if (woken) woken.wanted = true;
    }
    this.wakeLoop();
  }

  /** The pool a job is claimed in. */
  poolOf(name: string): string {
    return this.definition(name).pool ?? DEFAULT_POOL;
  }

  /** Declares a recurring job; every replica may declare it, the slot runs once. */
  async schedule(
    name: string,
    jobName: string,
    intervalSeconds: number,
    payload: unknown = {},
  ): Promise<void> {
    JobRunner.checkPayload(this.definition(jobName), payload);
    if (!Number.isInteger(intervalSeconds) || intervalSeconds < 1)
      throw new Error(
        `schedule ${name}: intervalSeconds must be a positive integer (got ${intervalSeconds})`,
      );
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
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.ticking;
    if (this.running.size === 0) return;
    let timeout: NodeJS.Timeout | undefined;
    const timedOut = new Promise((resolve) => {
      timeout = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.allSettled([...this.running]), timedOut]);
    clearTimeout(timeout);
    await this.flushDone();
    if (this.running.size > 0)
      this.options.logger.warn(
        { jobs: this.running.size, timeout_ms: timeoutMs },
        'stopped with jobs still running; they run again once their lease passes',
      );
  }

  /** Deletes the jobs finished since the last claim; a failure leaves them to run again after their lease. */
  private async flushDone(): Promise<void> {
    const done = this.done.splice(0);
    try {
      await completeJobs(this.options.db, done, this.workerId);
    } catch (error) {
      this.options.logger.error({ err: error, job_ids: done }, 'could not mark jobs done');
    }
  }

  get isRunning(): boolean {
    return !this.stopped;
  }

  /** One poll: materialise due schedules, claim and run what is due. Returns how many jobs it started. */
  async runOnce(): Promise<number> {
    return this.poll(true);
  }

  /**
   * A full poll takes due schedules and claims in every pool. The loop's polls between intervals (woken
   * by enqueues and freed slots) claim only in the pools that asked, and in any pool or the schedules
   * not looked at for an interval, so a busy pool does not make every poll cost a statement per pool.
   */
  private async poll(full: boolean): Promise<number> {
    const { db, clock, pollIntervalMs } = this.options;
    const due = (at: number) => full || performance.now() - at >= pollIntervalMs;
    if (due(this.schedulesAt)) {
      this.schedulesAt = performance.now();
      await this.takeSchedules();
    }
    // Each pool claims for its own free slots; a pool that filled them has a backlog. The first claim
    // also deletes the jobs finished since the last one.
    let started = 0;
    for (const pool of this.pools.values()) {
      if (pool.leases.size === 0 || !(pool.wanted || due(pool.claimedAt))) continue;
      const free = pool.size - pool.running;
      const woken = pool.wanted;
      pool.wanted = false;
      if (free <= 0) {
        // A freed slot wakes the pool (backlog), so nothing needs rechecking meanwhile.
        pool.backlog = true;
        pool.recheckMs = 0;
        continue;
      }
      pool.claimedAt = performance.now();
      const done = this.done.splice(0);
      let claimed: JobRow[];
      try {
        claimed = await claimJobs(db, this.workerId, clock.now(), pool.leases, free, done);
      } catch (error) {
        // The deletes went with the failed statement: those jobs run again after their lease.
        if (done.length > 0)
          this.options.logger.error({ err: error, job_ids: done }, 'could not mark jobs done');
        throw error;
      }
      pool.backlog = claimed.length === free;
      pool.recheckMs = woken && claimed.length === 0 ? this.nextRecheck(pool.recheckMs) : 0;
      started += claimed.length;
      for (const job of claimed) {
        pool.running++;
        const run = this.execute(job).finally(() => {
          pool.running--;
          this.running.delete(run);
          // A freed slot with work waiting should not sit idle until the next interval.
          if (pool.backlog) this.wake(pool.name);
        });
        this.running.add(run);
      }
    }
    if (this.done.length > 0) await this.flushDone();
    this.lastPollAt = clock.now();
    return started;
  }

  /** The wait after `previous` (0 at first); 0 once it would reach the poll interval, which takes over. */
  private nextRecheck(previous: number): number {
    const next = previous === 0 ? FIRST_RECHECK_MS : previous * 2;
    return next < this.options.pollIntervalMs ? next : 0;
  }

  private async takeSchedules(): Promise<void> {
    const { db, clock } = this.options;
    await db.transaction().execute(async (trx) => {
      for (const due of await takeDueSchedules(trx, clock.now(), [...this.definitions.keys()])) {
        const definition = this.definition(due.job_name);
        await insertJob(trx, {
          name: due.job_name,
          payload: { v: definition.version, data: due.payload },
          runAt: due.slot,
          maxAttempts: definition.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
          uniqueKey: `schedule:${due.name}:${due.slot.toISOString()}`,
          createdAt: clock.now(),
        });
      }
    });
  }

  /** Jobs in flight in `pool` in this process. */
  inFlight(pool = DEFAULT_POOL): number {
    return this.pools.get(pool)?.running ?? 0;
  }

  async depth() {
    return queueDepth(this.options.db, this.options.clock.now());
  }

  private async execute(job: JobRow): Promise<void> {
    const { clock } = this.options;
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    // The claim only returns names this runner registered.
    const definition = this.definition(job.name);
    if (job.attempts > job.max_attempts) {
      // The previous holder lost its lease during the final attempt (crashed, or overran it).
      const error = `lease expired during attempt ${job.max_attempts} of ${job.max_attempts}`;
      return this.fail(job, error, elapsed(), { dead: true, uncount: true });
    }
    const parsed = definition.payload.safeParse((job.payload as { data?: unknown }).data);
    if (!parsed.success) {
      // Retrying cannot make a stored payload valid; it waits in the dead letters for a fix and replay.
      const error = `invalid payload: ${z.prettifyError(parsed.error)}`;
      return this.fail(job, error, elapsed(), { dead: true });
    }
    try {
      await definition.handler(parsed.data, {
        jobId: job.id,
        attempt: job.attempts,
        now: clock.now(),
        runAt: job.run_at,
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return this.fail(job, message, elapsed(), { dead: job.attempts >= job.max_attempts });
    }
    // Deleted by the next poll's claim (or flush): if this process dies first, the job runs again
    // after its lease, as when a delete fails (handlers are idempotent).
    this.done.push(job.id);
    this.wakeLoop();
    this.observe(job.name, 'succeeded', elapsed());
  }

  private async fail(
    job: JobRow,
    message: string,
    seconds: number,
    how: { dead: boolean; uncount?: boolean },
  ): Promise<void> {
    const { db, clock, logger } = this.options;
    const error = message.slice(0, 2000);
    try {
      if (how.dead) await killJob(db, job.id, this.workerId, clock.now(), error, how.uncount);
      else {
        const retryAt = new Date(clock.now().getTime() + backoffMs(job.attempts));
        await rescheduleJob(db, job.id, this.workerId, retryAt, error);
      }
    } catch (recordError) {
      // The lease will expire and another attempt will follow; nothing is lost.
      logger.error({ err: recordError, job_id: job.id }, 'could not record job failure');
    }
    const outcome = how.dead ? 'dead' : 'retried';
    this.observe(job.name, outcome, seconds);
    logger.warn({ job: job.name, job_id: job.id, attempt: job.attempts, outcome, error }, 'job failed');
  }

  private observe(job: string, outcome: 'succeeded' | 'retried' | 'dead', seconds: number): void {
    this.options.metrics.jobDuration.observe({ job, outcome }, seconds);
    this.options.metrics.jobsProcessed.inc({ job, outcome });
  }

  private loop(): void {
    this.timer = undefined;
    if (this.stopped) return;
    this.ticking = this.poll(false)
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
        // A pool whose claim filled its slots and has some free again looks at once; otherwise the loop
        // waits for the interval or a wake-up.
        const more =
          started > 0 && [...this.pools.values()].some((pool) => pool.backlog && pool.running < pool.size);
        if (more) for (const pool of this.pools.values()) if (pool.backlog) pool.wanted = true;
        // A pool woken for work it could not see yet looks again soon (see FIRST_RECHECK_MS).
        let recheck = Number.POSITIVE_INFINITY;
        for (const pool of this.pools.values()) {
          if (pool.recheckMs === 0) continue;
          pool.wanted = true;
          recheck = Math.min(recheck, pool.recheckMs);
        }
        const delay = more || this.wakeRequested ? 0 : Math.min(recheck, this.options.pollIntervalMs);
        this.wakeRequested = false;
        this.setTimer(delay);
      });
  }

  /**
   * An enqueue in this process, a slot freed while work waits, or a finished job to delete shortens
   * the wait for the next poll. An enqueue inside a transaction may wake a poll before its commit; that
   * job then waits one interval.
   */
  private wakeLoop(): void {
    if (this.stopped) return;
    if (!this.timer) {
      // A poll is under way: make the next one start at once.
      this.wakeRequested = true;
      return;
    }
    // Already due within the wake delay: leave it. Restarting it on every wake-up would put the poll
    // off for as long as wake-ups keep coming closer together than the delay (a busy inbox).
    if (this.timerDueAt <= performance.now() + WAKE_DELAY_MS) return;
    clearTimeout(this.timer);
    this.setTimer(WAKE_DELAY_MS);
  }

  private setTimer(delayMs: number): void {
    this.timerDueAt = performance.now() + delayMs;
    this.timer = setTimeout(() => this.loop(), delayMs);
  }
}
