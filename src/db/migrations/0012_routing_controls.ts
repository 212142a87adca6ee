import { type Kysely, sql } from 'kysely';

// Provider routing rules and the operators' run-time controls (DESIGN section 6): a forced circuit
// state per provider and the run-time switches. Every replica reads them through a cache of a second
// or two, so a change made on one replica reaches all of them within seconds.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table provider_controls (
      provider text primary key check (provider in ('stripe', 'paypal', 'wallet')),
      forced_state text not null check (forced_state in ('open', 'closed')),
      updated_at timestamptz not null,
      updated_by text not null
    );

    create table runtime_switches (
      name text primary key check (name in ('circuit_breaker_enabled', 'fallback_provider_enabled')),
      enabled boolean not null,
      updated_at timestamptz not null,
      updated_by text not null
    );

    create table routing_rules (
      id text primary key,
      merchant_id text,
      livemode boolean,
      payment_method_type text not null check (payment_method_type in ('card', 'paypal', 'wallet')),
      currency text,
      min_amount bigint check (min_amount >= 0),
      max_amount bigint check (max_amount >= 0),
      providers jsonb not null check (jsonb_typeof(providers) = 'array' and jsonb_array_length(providers) > 0),
      priority integer not null default 0,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      check (min_amount is null or max_amount is null or min_amount <= max_amount)
    );
    create index routing_rules_merchant on routing_rules (merchant_id);
  `.execute(db);
}
