import { type Kysely, sql } from 'kysely';

// Payment methods hold only what may be displayed (brand, last 4, expiry, fingerprint). The full card
// number and the CVC live in the vault tables, and there only as AES-256-GCM ciphertext (invariant 6).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table payment_methods (
      id text primary key,
      merchant_id text not null references merchants(id),
      livemode boolean not null,
      type text not null check (type in ('card')),
      created_at timestamptz not null,
      customer_id text references customers(id),
      detached_at timestamptz,
      billing_details jsonb not null,
      metadata jsonb not null,
      allow_redisplay text not null,
      card_brand text not null,
      card_last4 text not null,
      card_exp_month integer not null,
      card_exp_year integer not null,
      card_fingerprint text not null,
      card_fingerprint_key text not null,
      card_funding text not null,
      card_country text,
      card_cvc_check text,
      card_address_line1_check text,
      card_address_postal_code_check text
    );
    create index payment_methods_list on payment_methods (merchant_id, livemode, created_at desc, id desc);
    create index payment_methods_customer on payment_methods (merchant_id, livemode, customer_id, created_at desc, id desc)
      where customer_id is not null;

    -- One envelope per card: the data key is wrapped by the key-encryption key named in kek_id.
    create table vault_cards (
      payment_method_id text primary key references payment_methods(id),
      merchant_id text not null,
      livemode boolean not null,
      kek_id text not null,
      wrapped_key text not null,
      ciphertext text not null,
      created_at timestamptz not null,
      rewrapped_at timestamptz
    );
    create index vault_cards_kek on vault_cards (kek_id, payment_method_id);

    create table vault_cvcs (
      payment_method_id text primary key references payment_methods(id),
      merchant_id text not null,
      livemode boolean not null,
      kek_id text not null,
      wrapped_key text not null,
      ciphertext text not null,
      created_at timestamptz not null,
      expires_at timestamptz not null
    );
    create index vault_cvcs_expiry on vault_cvcs (expires_at);
    create index vault_cvcs_kek on vault_cvcs (kek_id, payment_method_id);

    -- A check value per key-encryption key (an HMAC of a constant, never the key), so a replica started
    -- with a different key under a known id refuses to start instead of writing unreadable cards.
    create table vault_keys (
      id text primary key,
      check_value text not null,
      first_seen_at timestamptz not null
    );
  `.execute(db);
}
