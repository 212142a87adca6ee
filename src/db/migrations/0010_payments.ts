import { type Kysely, sql } from 'kysely';

// Payment intents, their provider attempts, the charges attempts produce, and refunds of charges.
// An attempt is one confirmation sent to one provider (DESIGN section 6); its provider object id is saved
// before anything is confirmed, and an attempt whose outcome is unknown waits in `phase` for evidence.
// Charges hold the per-charge money limits (captured, refunded, lost in disputes) that refunds lock.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table payment_intents (
      id text primary key,
      merchant_id text not null references merchants(id),
      livemode boolean not null,
      created_at timestamptz not null,
      amount bigint not null check (amount > 0),
      currency text not null,
      status text not null check (status in ('requires_payment_method', 'requires_confirmation',
        'requires_action', 'processing', 'requires_capture', 'succeeded', 'canceled')),
      capture_method text not null check (capture_method in ('automatic', 'automatic_async', 'manual')),
      customer_id text,
      payment_method_id text,
      payment_method_types jsonb not null,
      automatic_payment_methods jsonb,
      description text,
      metadata jsonb not null,
      return_url text,
      client_secret text not null,
      amount_capturable bigint not null default 0,
      amount_received bigint not null default 0,
      latest_charge_id text,
      last_payment_error jsonb,
      next_action jsonb,
      canceled_at timestamptz,
      cancellation_reason text,
      -- Accepted and stored Stripe parameters we do not act on yet (receipt_email, shipping, ...).
      extra jsonb not null,
      current_attempt_id text,
      check (amount_received >= 0 and amount_capturable >= 0 and amount_received <= amount)
    );
    create index payment_intents_list on payment_intents (merchant_id, livemode, created_at desc, id desc);
    create index payment_intents_metadata on payment_intents using gin (metadata jsonb_path_ops);

    create table payment_attempts (
      id text primary key,
      payment_intent_id text not null references payment_intents(id),
      merchant_id text not null,
      livemode boolean not null,
      provider text not null,
      payment_method_id text,
      amount bigint not null,
      currency text not null,
      capture_method text not null,
      created_at timestamptz not null,
      -- started: nothing at the provider yet; confirming: provider object saved, confirm may have been
      -- sent; unknown: confirm or capture sent, outcome unknown; settled: the outcome is recorded.
      phase text not null check (phase in ('started', 'confirming', 'unknown', 'settled')),
      -- The operation in flight on an authorized attempt (capture or cancel), settled the same way.
      pending_operation text check (pending_operation in ('capture', 'cancel')),
      capture_amount bigint,
      status text not null check (status in ('pending', 'requires_action', 'requires_capture',
        'succeeded', 'failed', 'canceled')),
      provider_payment_id text,
      charge_id text,
      return_url text,
      error jsonb,
      latency_ms integer,
      settled_at timestamptz,
      next_check_at timestamptz
    );
    create unique index payment_attempts_provider on payment_attempts (provider, provider_payment_id)
      where provider_payment_id is not null;
    create index payment_attempts_intent on payment_attempts (payment_intent_id, created_at);
    create index payment_attempts_unsettled on payment_attempts (next_check_at)
      where phase <> 'settled' or pending_operation is not null;

    create table charges (
      id text primary key,
      merchant_id text not null,
      livemode boolean not null,
      payment_intent_id text not null references payment_intents(id),
      attempt_id text not null unique references payment_attempts(id),
      created_at timestamptz not null,
      amount bigint not null,
      amount_captured bigint not null default 0,
      amount_refunded bigint not null default 0,
      amount_lost_in_disputes bigint not null default 0,
      currency text not null,
      status text not null check (status in ('succeeded', 'pending', 'failed')),
      captured boolean not null,
      paid boolean not null,
      provider text not null,
      provider_charge_id text,
      customer_id text,
      description text,
      metadata jsonb not null,
      payment_method_id text,
      card jsonb,
      failure_code text,
      failure_message text,
      decline_code text,
      fee bigint,
      balance_transaction_id text,
      disputed boolean not null default false,
      dispute_status text,
      -- Refunded plus lost in disputes never exceeds what was captured (DESIGN section 8).
      check (amount_refunded >= 0 and amount_lost_in_disputes >= 0
        and amount_refunded + amount_lost_in_disputes <= amount_captured),
      check (amount_captured <= amount)
    );
    create index charges_list on charges (merchant_id, livemode, created_at desc, id desc);
    create index charges_intent on charges (payment_intent_id);
    create index charges_provider on charges (provider, provider_charge_id);

    create table refunds (
      id text primary key,
      merchant_id text not null,
      livemode boolean not null,
      charge_id text not null references charges(id),
      payment_intent_id text not null,
      attempt_id text not null,
      created_at timestamptz not null,
      amount bigint not null check (amount > 0),
      currency text not null,
      status text not null check (status in ('pending', 'requires_action', 'succeeded', 'failed', 'canceled')),
      reason text,
      metadata jsonb not null,
      provider_refund_id text,
      failure_reason text,
      balance_transaction_id text,
      failure_balance_transaction_id text,
      -- started: reserved, provider not called yet or outcome unknown; settled: provider answered.
      phase text not null check (phase in ('started', 'settled')),
      next_check_at timestamptz
    );
    create index refunds_list on refunds (merchant_id, livemode, created_at desc, id desc);
    create index refunds_charge on refunds (charge_id);
    create index refunds_unsettled on refunds (next_check_at) where phase <> 'settled';
  `.execute(db);
}
