import { type Kysely, sql } from 'kysely';

// Privacy (runbook 003's data export and erasure): when a customer's personal data was erased, and the
// index that finds a customer's payment intents without reading the merchant's whole list. Partial, so
// the payments written without a customer (most card traffic) pay nothing for it.
// Numbered 0020: 0019 is taken by the feature flags branch.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table customers add column erased_at timestamptz;
    create index payment_intents_customer on payment_intents (merchant_id, livemode, customer_id, created_at desc, id desc)
      where customer_id is not null;
  `.execute(db);
}
