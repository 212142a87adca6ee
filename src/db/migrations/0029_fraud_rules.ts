import { type Kysely, sql } from 'kysely';

// Fraud rules (issue 9, runbook 003's threat rules): the rules with their switch, thresholds and action,
// seeded with runbook 003's defaults; operators' blocklists; one `fraud_checks` row per evaluated
// confirmation (the history the velocity, geography and card-testing rules count, through partial
// indexes so each count is an index range of one card, IP or customer, never a scan); the decision
// on the payment intent, the attempt's instructions to the provider (3DS, hold for review) and the
// charge's rule outcome.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table fraud_rules (
      id text primary key,
      description text not null,
      enabled boolean not null,
      action text not null check (action in ('block', 'review', 'request_three_d_secure')),
      thresholds jsonb not null,
      updated_at timestamptz not null,
      updated_by text not null
    );
    insert into fraud_rules (id, description, enabled, action, thresholds, updated_at, updated_by) values
      ('card_velocity', 'A card fingerprint with max_payments or more payments within window_seconds (more than max_payments with this one)',
        true, 'review', '{"max_payments": 100, "window_seconds": 3600}', '1970-01-01T00:00:00Z', 'migration'),
      ('geo_anomaly', 'The shopper IP is more than max_distance_km from the same card''s previous payment within window_seconds',
        true, 'request_three_d_secure', '{"max_distance_km": 1000, "window_seconds": 3600}', '1970-01-01T00:00:00Z', 'migration'),
      ('amount_limit', 'The amount is above the merchant''s limit for the currency (merchant_limits), or the default one (default_limits)',
        true, 'block', '{"default_limits": {}, "merchant_limits": {}}', '1970-01-01T00:00:00Z', 'migration'),
      ('card_testing', 'A payment from a shopper IP or customer with max_declines or more declined or blocked payments within window_seconds',
        true, 'block', '{"max_declines": 10, "window_seconds": 600}', '1970-01-01T00:00:00Z', 'migration'),
      ('blocklist', 'The card fingerprint, email or shopper IP is on the blocklist',
        true, 'block', '{}', '1970-01-01T00:00:00Z', 'migration');

    create table fraud_blocklist (
      id text primary key,
      kind text not null check (kind in ('card_fingerprint', 'email', 'ip_address')),
      value text not null,
      reason text,
      created_at timestamptz not null,
      created_by text not null,
      unique (kind, value)
    );

    create table fraud_checks (
      id text primary key,
      attempt_id text unique,
      payment_intent_id text not null,
      merchant_id text not null,
      livemode boolean not null,
      created_at timestamptz not null,
      card_fingerprint text,
      shopper_ip text,
      customer_id text,
      latitude double precision,
      longitude double precision,
      action text not null check (action in ('allow', 'block', 'review', 'request_three_d_secure')),
      declined boolean not null default false
    );
    create index fraud_checks_card on fraud_checks (merchant_id, livemode, card_fingerprint, created_at desc)
      where card_fingerprint is not null;
    create index fraud_checks_ip_declines on fraud_checks (shopper_ip, created_at desc)
      where declined and shopper_ip is not null;
    create index fraud_checks_customer_declines on fraud_checks (merchant_id, livemode, customer_id, created_at desc)
      where declined and customer_id is not null;

    alter table payment_intents add column fraud_outcome jsonb;
    alter table payment_attempts add column request_three_d_secure boolean not null default false;
    alter table payment_attempts add column hold_for_review boolean not null default false;
    alter table charges add column fraud_outcome jsonb;
  `.execute(db);
}
