import type { ColumnType, Generated, Selectable } from 'kysely';

export interface JobsTable {
  id: Generated<number>;
  name: string;
  payload: ColumnType<unknown, string, string>;
  run_at: Date;
  attempts: Generated<number>;
  max_attempts: number;
  /** Deduplicates enqueues, e.g. one row per recurring schedule slot. */
  unique_key: string | null;
  locked_by: string | null;
  /** Lease end: a worker that crashed loses the job when this passes. */
  locked_until: Date | null;
  dead_at: Date | null;
  last_error: string | null;
  created_at: ColumnType<Date, Date, never>;
}

export interface JobSchedulesTable {
  name: string;
  job_name: string;
  interval_seconds: number;
  next_run_at: Date;
  payload: ColumnType<unknown, string, string>;
}

export type JobRow = Selectable<JobsTable>;
