import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table jobs (
      id bigint generated always as identity primary key,
      name text not null,
      payload jsonb not null default '{}',
      run_at timestamptz not null,
      attempts integer not null default 0,
      max_attempts integer not null,
      unique_key text unique,
      locked_by text,
      locked_until timestamptz,
      dead_at timestamptz,
      last_error text,
      created_at timestamptz not null
    );
    -- Workers claim due, live jobs in run_at order.
    create index jobs_due on jobs (run_at) where dead_at is null;

    create table job_schedules (
      name text primary key,
      job_name text not null,
      interval_seconds integer not null check (interval_seconds > 0),
      next_run_at timestamptz not null,
      payload jsonb not null default '{}'
    );

    -- Runbook 002 checks pending migrations in schema_migrations; this view answers it.
    create view schema_migrations as
      select name as version, true as applied, timestamp as applied_at from kysely_migration;
  `.execute(db);
}
