import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- Installation-wide secrets generated on first use and shared by every replica (e.g. the HMAC key
    -- for idempotency request hashes). Never returned by any API.
    create table service_secrets (
      name text primary key,
      value text not null,
      created_at timestamptz not null
    );
  `.execute(db);
}
