import { type Kysely, sql } from 'kysely';

// Reconciliation (runbook 004, issue 8): runs and their findings, kept as the report; and the provider
// records a run has seen, one narrow row each, so "missing at the provider" and "two charges for one
// payment" are set operations in the database rather than sets held in memory. A run deletes its own
// seen rows when it ends.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table reconciliation_runs (
      id text primary key,
      kind text not null check (kind in ('window', 'pending')),
      trigger text not null check (trigger in ('operator', 'cli', 'schedule')),
      actor_id text,
      status text not null check (status in ('running', 'completed', 'failed')),
      window_start timestamptz not null,
      window_end timestamptz not null,
      providers jsonb not null,
      counts jsonb not null,
      error text,
      created_at timestamptz not null,
      finished_at timestamptz
    );
    create index reconciliation_runs_created on reconciliation_runs (created_at desc, id desc);
    create table reconciliation_findings (
      id text primary key,
      run_id text not null references reconciliation_runs (id),
      created_at timestamptz not null,
      kind text not null check (kind in ('status_mismatch', 'unknown_at_our_side', 'missing_at_provider', 'duplicate', 'unresolved')),
      provider text not null,
      provider_payment_id text,
      provider_charge_id text,
      merchant_id text,
      livemode boolean,
      payment_intent_id text,
      attempt_id text,
      amount bigint,
      currency text,
      our_status text,
      provider_status text,
      resolution text not null check (resolution in ('open', 'settled', 'refunding', 'refunded', 'adopting', 'adopted')),
      resolved_at timestamptz,
      resolved_by text,
      detail jsonb not null
    );
    create index reconciliation_findings_run on reconciliation_findings (run_id, id);
    create index reconciliation_findings_charge on reconciliation_findings (provider, provider_charge_id);
    create table reconciliation_seen (
      run_id text not null,
      provider text not null,
      provider_payment_id text not null,
      payment_intent_id text,
      attempt_id text,
      paid boolean not null
    );
    create index reconciliation_seen_payment on reconciliation_seen (run_id, provider, provider_payment_id);
    create index reconciliation_seen_intent on reconciliation_seen (run_id, payment_intent_id) where paid;
  `.execute(db);
}
