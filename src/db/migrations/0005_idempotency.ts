import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- Every POST from a Stripe SDK carries a key, so this table sees every write: one narrow row per key,
    -- deleted in batches after 72 hours.
    create table idempotency_keys (
      merchant_id text not null,
      livemode boolean not null,
      key text not null,
      created_at timestamptz not null,
      endpoint text not null,
      request_hash text not null,
      locked_until timestamptz,
      recovery_point text not null default 'started',
      recovery_data jsonb,
      response_status integer,
      response_body jsonb,
      finished_at timestamptz,
      primary key (merchant_id, livemode, key)
    );
    create index idempotency_keys_created on idempotency_keys (created_at);
    create index idempotency_keys_abandoned on idempotency_keys (locked_until) where finished_at is null;
  `.execute(db);
}
