import { type Kysely, sql } from 'kysely';

// The inbound webhook inbox (DESIGN section 7, issue 6): every verified provider event is stored once,
// keyed by (provider, provider_event_id), and processed by a job. `subject` is the provider object the
// event is about (a payment intent, an order), so processing can be serialised per payment through
// `webhook_subject_locks`, a lease per subject that works the same on PGlite and across PostgreSQL
// processes without holding a transaction across the provider call the handlers make.
// 0014 is left to the outbound webhooks migration.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table webhook_inbox (
      id text primary key,
      provider text not null check (provider in ('stripe', 'paypal')),
      provider_event_id text not null,
      type text not null,
      subject text not null,
      payload jsonb not null,
      occurred_at timestamptz not null,
      received_at timestamptz not null,
      status text not null default 'pending'
        check (status in ('pending', 'processed', 'ignored', 'failed', 'dead')),
      attempts integer not null default 0,
      last_error text,
      processed_at timestamptz,
      unique (provider, provider_event_id)
    );
    -- The admin listing pages newest first by (received_at, id).
    create index webhook_inbox_received on webhook_inbox (received_at desc, id desc);
    -- Listing by status, the bulk replay of dead or failed rows, the purge and the gauges.
    create index webhook_inbox_status on webhook_inbox (status, received_at);

    create table webhook_subject_locks (
      provider text not null,
      subject text not null,
      holder text not null,
      expires_at timestamptz not null,
      primary key (provider, subject)
    );
  `.execute(db);
}
