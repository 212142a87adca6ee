import { type Kysely, sql } from 'kysely';

// Issue 9's request controls. `ip_blocks`: one row per blocked client address (brute force or an
// operator's manual block), read by every replica through a cache of seconds; in PostgreSQL so a
// Redis flush lifts nothing. `auth_failures`: failed authentications per address within the brute-force
// window, pruned as new ones arrive. `api_key_rate_limits`: a key's own requests-per-second limit
// when it differs from RATE_LIMIT_PER_KEY_PER_SECOND. `payment_intents.shopper_ip`: the shopper's
// address as the merchant sent it (`shopper_ip`), for per-shopper limits and the fraud rules.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table ip_blocks (
      ip text primary key,
      reason text not null check (reason in ('brute_force', 'manual')),
      note text,
      blocked_at timestamptz not null,
      blocked_until timestamptz,
      blocked_by text
    );
    create index ip_blocks_until on ip_blocks (blocked_until);

    create table auth_failures (
      id bigint generated always as identity primary key,
      ip text not null,
      failed_at timestamptz not null,
      reason text not null
    );
    create index auth_failures_ip_time on auth_failures (ip, failed_at);
    create index auth_failures_time on auth_failures (failed_at);

    create table api_key_rate_limits (
      key_id text primary key references api_keys (id),
      per_second integer not null check (per_second between 1 and 1000000),
      updated_at timestamptz not null,
      updated_by text
    );

    alter table payment_intents add column shopper_ip text;
  `.execute(db);
}
