import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table merchants (
      id text primary key,
      name text not null,
      timezone text not null default 'UTC',
      created_at timestamptz not null
    );

    create table api_keys (
      id text primary key,
      merchant_id text not null references merchants(id),
      livemode boolean not null,
      kind text not null check (kind in ('secret', 'restricted', 'publishable')),
      secret_hash text not null unique,
      prefix text not null,
      last4 text not null,
      name text,
      scopes jsonb,
      created_at timestamptz not null,
      expires_at timestamptz,
      revoked_at timestamptz,
      last_used_at timestamptz
    );
    create index api_keys_merchant on api_keys (merchant_id, livemode, created_at desc);

    create table customers (
      id text primary key,
      merchant_id text not null references merchants(id),
      livemode boolean not null,
      created_at timestamptz not null,
      email text,
      name text,
      phone text,
      description text,
      metadata jsonb not null default '{}',
      address jsonb,
      shipping jsonb,
      preferred_locales jsonb not null default '[]',
      invoice_prefix text not null,
      tax_exempt text not null default 'none',
      deleted_at timestamptz
    );
    create index customers_list on customers (merchant_id, livemode, created_at desc, id desc);
  `.execute(db);
}
