import { type Kysely, sql } from 'kysely';

// Reviews (DESIGN section 4, runbook 002's rollback marking): a hold on a charge that a merchant approves.
// At most one open review per charge, so marking twice opens nothing new; the charge names its latest
// review, as Stripe's `charge.review` does.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table reviews (
      id text primary key,
      merchant_id text not null references merchants (id),
      livemode boolean not null,
      charge_id text not null references charges (id),
      payment_intent_id text not null references payment_intents (id),
      created_at timestamptz not null,
      open boolean not null default true,
      opened_reason text not null check (opened_reason in ('rule', 'manual', 'system_rollback')),
      reason text not null,
      closed_reason text check (closed_reason in ('approved', 'refunded', 'refunded_as_fraud', 'disputed', 'redacted', 'canceled', 'payment_never_settled', 'acknowledged')),
      closed_at timestamptz,
      check (open = (closed_reason is null))
    );
    create unique index reviews_one_open_per_charge on reviews (charge_id) where open;
    create index reviews_merchant_created on reviews (merchant_id, livemode, created_at desc, id desc);
    alter table charges add column review_id text;
  `.execute(db);
}
