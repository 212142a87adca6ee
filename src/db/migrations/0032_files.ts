import { type Kysely, sql } from 'kysely';

// Stripe-shaped file uploads (dispute evidence): the bytes live in the database beside the dispute they
// support, so a backup or a replica has them and no second store has to be kept in step. The provider's
// own id for each copy uploaded to a provider is kept per provider, so evidence submitted again does not
// upload the same file twice.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table files (
      id text primary key,
      merchant_id text not null references merchants (id),
      livemode boolean not null,
      purpose text not null,
      filename text not null,
      type text not null,
      size integer not null check (size > 0),
      sha256 text not null,
      contents bytea not null,
      provider_files jsonb not null default '{}'::jsonb,
      created_at timestamptz not null
    );
    create index files_list on files (merchant_id, livemode, created_at desc, id desc);
  `.execute(db);
}
