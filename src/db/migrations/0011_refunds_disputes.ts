import { type Kysely, sql } from 'kysely';

// Refunds found by the provider's refund id (inbound webhooks), and the disputes the provider opens on
// charges. A dispute row is what makes its ledger postings and events happen once, whatever order the
// provider's dispute webhooks arrive in; the merchant-facing disputes API builds on it later.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create index refunds_provider on refunds (provider_refund_id) where provider_refund_id is not null;

    create table disputes (
      id text primary key,
      merchant_id text not null,
      livemode boolean not null,
      charge_id text not null references charges(id),
      payment_intent_id text not null,
      attempt_id text not null,
      provider text not null,
      provider_dispute_id text not null,
      created_at timestamptz not null,
      amount bigint not null check (amount > 0),
      currency text not null,
      -- The dispute fee the provider took when funds were withdrawn (0 for an inquiry).
      fee bigint not null default 0,
      status text not null check (status in ('warning_needs_response', 'warning_under_review',
        'warning_closed', 'needs_response', 'under_review', 'won', 'lost')),
      reason text,
      -- The ledger posting of the withdrawal; null while nothing was withdrawn (an inquiry).
      balance_transaction_id text,
      closed_at timestamptz
    );
    create unique index disputes_provider on disputes (provider, provider_dispute_id);
    create index disputes_list on disputes (merchant_id, livemode, created_at desc, id desc);
    create index disputes_charge on disputes (charge_id);
  `.execute(db);
}
