import { type Kysely, sql } from 'kysely';

// Feature flags (runbook 002's `payments_live_v1`): a row per flag holding its kill state, and a row per
// flag and environment holding that environment's rollout percentage. No row means the flag's default
// (on, 100%). Every replica reads them through a cache of a second, so a change reaches all of them
// within seconds; the database keeps the percentage and the environment names honest.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table feature_flags (
      name text primary key,
      killed boolean not null default false,
      killed_at timestamptz,
      killed_by text,
      updated_at timestamptz not null,
      updated_by text not null
    );

    create table feature_flag_rollouts (
      flag text not null references feature_flags (name),
      environment text not null check (environment in ('development', 'test', 'staging', 'production')),
      percentage integer not null check (percentage between 0 and 100),
      updated_at timestamptz not null,
      updated_by text not null,
      primary key (flag, environment)
    );
  `.execute(db);
}
