import { type Kysely, sql } from 'kysely';

// Outbound webhooks (DESIGN section 7): merchants' endpoints, one delivery per (event, endpoint) whose
// id is the `webhook-id` every attempt and replay of it carries, and one row per HTTP attempt.
// `step` counts the jobs a delivery has had (each carries its step, so a stale one does nothing);
// `rung` is its position on the retry ladder, back to 0 on a replay.
// Secrets are stored AES-256-GCM encrypted; the previous secret is kept until its overlap ends.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table webhook_endpoints (
      id text primary key,
      merchant_id text not null references merchants (id),
      livemode boolean not null,
      url text not null,
      enabled_events jsonb not null check (jsonb_typeof(enabled_events) = 'array'),
      description text,
      metadata jsonb not null default '{}',
      status text not null check (status in ('enabled', 'disabled')),
      disabled_reason text,
      secret_ciphertext text not null,
      previous_secret_ciphertext text,
      previous_secret_expires_at timestamptz,
      failing_since timestamptz,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      deleted_at timestamptz
    );
    create index webhook_endpoints_scope on webhook_endpoints (merchant_id, livemode, created_at desc)
      where deleted_at is null;

    create table webhook_deliveries (
      id text primary key,
      event_id text not null references events (id),
      endpoint_id text not null references webhook_endpoints (id),
      merchant_id text not null,
      livemode boolean not null,
      status text not null check (status in ('pending', 'succeeded', 'failed', 'dead')),
      attempts integer not null default 0,
      step integer not null default 0,
      rung integer not null default 0,
      next_attempt_at timestamptz,
      last_status_code integer,
      last_error text,
      event_created_at timestamptz not null,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      delivered_at timestamptz,
      unique (event_id, endpoint_id)
    );
    create index webhook_deliveries_endpoint on webhook_deliveries (endpoint_id, created_at desc);
    create index webhook_deliveries_created on webhook_deliveries (created_at desc, id desc);
    create index webhook_deliveries_open on webhook_deliveries (status) where status in ('pending', 'failed', 'dead');

    create table webhook_delivery_attempts (
      id bigserial primary key,
      delivery_id text not null references webhook_deliveries (id),
      attempted_at timestamptz not null,
      status_code integer,
      error_kind text check (error_kind in ('timeout', 'network', 'unsafe_url')),
      latency_ms integer not null,
      response_excerpt text not null default ''
    );
    create index webhook_delivery_attempts_delivery on webhook_delivery_attempts (delivery_id, id);
  `.execute(db);
}
