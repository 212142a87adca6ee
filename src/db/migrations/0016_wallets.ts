import { type Kysely, sql } from 'kysely';

// Customer wallets (DESIGN sections 4 and 8). The wallet row is the API resource; its money lives in the
// ledger: the customer's `customer_wallet` account (spendable) and a new `customer_wallet_hold` account
// (reserved by uncaptured wallet payments). Both may not go negative, so ledger_post() locks them and
// checks them; a hold is a transfer wallet -> hold, so "balances equal the sum of entries" stays true.
// At most one open wallet per customer and currency (the partial unique index); a closed wallet stays.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table ledger_accounts drop constraint ledger_accounts_type_check;
    alter table ledger_accounts add constraint ledger_accounts_type_check check (type in (
      'merchant_available', 'merchant_pending', 'merchant_fees', 'merchant_disputes',
      'provider_clearing', 'customer_wallet', 'customer_wallet_hold', 'external', 'losses'));

    create table wallets (
      id text primary key,
      merchant_id text not null,
      livemode boolean not null,
      customer_id text not null,
      currency text not null check (currency ~ '^[a-z]{3}$'),
      status text not null check (status in ('open', 'closed')),
      metadata jsonb not null default '{}',
      created_at timestamptz not null,
      closed_at timestamptz
    );
    create unique index wallets_one_open on wallets (merchant_id, livemode, customer_id, currency)
      where status = 'open';
    create index wallets_list on wallets (merchant_id, livemode, created_at desc, id desc);
    create index wallets_customer on wallets (merchant_id, livemode, customer_id);
  `.execute(db);
}
