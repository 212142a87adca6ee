import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table operators (
      id text primary key,
      email text not null unique,
      password_hash text not null,
      role text not null check (role in ('payment-admin', 'payment-operator', 'payment-viewer')),
      created_at timestamptz not null,
      last_login_at timestamptz,
      disabled_at timestamptz
    );

    create table operator_sessions (
      id text primary key,
      token_hash text not null unique,
      operator_id text not null references operators(id),
      created_at timestamptz not null,
      last_seen_at timestamptz not null,
      expires_at timestamptz not null,
      revoked_at timestamptz
    );

    create table operator_tokens (
      id text primary key,
      token_hash text not null unique,
      operator_id text not null references operators(id),
      name text not null,
      created_at timestamptz not null,
      last_used_at timestamptz,
      revoked_at timestamptz
    );

    create table audit_log (
      seq bigint generated always as identity primary key,
      id text not null unique,
      occurred_at timestamptz not null,
      actor_type text not null check (actor_type in ('operator', 'cli', 'system')),
      actor_id text,
      action text not null,
      resource_type text,
      resource_id text,
      outcome text not null check (outcome in ('success', 'failure', 'denied')),
      origin text,
      user_agent text,
      request_id text,
      old_value jsonb,
      new_value jsonb
    );
    create index audit_log_time on audit_log (occurred_at desc);

    -- The audit trail is append-only: corrections are new rows, never edits.
    create function audit_log_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_log is append-only (% refused)', tg_op using errcode = 'P0001';
    end $$;
    create trigger audit_log_no_update before update or delete on audit_log
      for each row execute function audit_log_append_only();
  `.execute(db);
}
