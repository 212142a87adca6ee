// A job is a definition (name, version, zod payload) plus a handler; the runner knows nothing about
// payments. Handlers must be idempotent: a job whose worker crashed runs again after its lease ends.
import type { z } from 'zod';

export interface JobContext {
  jobId: number;
  attempt: number;
  now: Date;
  /** When the job was due; for a recurring job, the schedule slot it stands for. */
  runAt: Date;
}

export interface JobDefinition<S extends z.ZodType = z.ZodType> {
  name: string;
  version: number;
  payload: S;
  /** Attempts before the job is dead-lettered (default 10). */
  maxAttempts?: number;
  /** How long a worker owns a claimed job before another may take it (default 60 s). */
  leaseMs?: number;
  /**
   * The concurrency pool the job is claimed in (default `default`, sized by JOBS_CONCURRENCY). A pool
   * has its own slots and its own claims, so slow work there (webhook receivers) never starves others.
   */
  pool?: string;
  handler(payload: z.output<S>, context: JobContext): Promise<void>;
}

export function defineJob<S extends z.ZodType>(definition: JobDefinition<S>): JobDefinition<S> {
  return definition;
}

/**
 * Exponential backoff from 1 s whose base is capped at 1 h, with +-20% jitter around the base so
 * retries do not stampede (a capped retry waits 48 to 72 minutes).
 */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(1000 * 2 ** Math.max(0, attempt - 1), 3_600_000);
  return Math.round(base * (0.8 + 0.4 * random()));
}
