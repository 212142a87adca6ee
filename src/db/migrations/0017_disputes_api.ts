import { type Kysely, sql } from 'kysely';

// The merchant-facing disputes API (DESIGN section 4): the deadline for evidence, the evidence the
// merchant saved or submitted (text fields, Stripe's names), how often it was submitted, metadata, and
// whether the dispute is an inquiry or a chargeback (an inquiry can escalate into a chargeback), and for a
// disputed wallet top-up what the wallet covered.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table disputes
      add column due_by timestamptz,
      add column evidence jsonb not null default '{}'::jsonb,
      add column evidence_submission_count integer not null default 0,
      add column metadata jsonb not null default '{}'::jsonb,
      add column case_type text not null default 'chargeback' check (case_type in ('inquiry', 'chargeback')),
      -- A disputed wallet top-up: how much of the withdrawal the wallet still held (the rest was a loss).
      add column wallet_covered bigint;
    create index disputes_payment_intent on disputes (payment_intent_id);
    create index disputes_open on disputes (merchant_id, livemode, created_at)
      where status not in ('won', 'lost', 'warning_closed');
  `.execute(db);
}
