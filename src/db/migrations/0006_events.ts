import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table events (
      id text primary key,
      merchant_id text not null,
      livemode boolean not null,
      type text not null,
      created_at timestamptz not null,
      object_id text not null,
      data jsonb not null,
      request_id text,
      idempotency_key text
    );
    create index events_list on events (merchant_id, livemode, created_at desc, id desc);
    create index events_object on events (object_id);
  `.execute(db);
}
