import { type Kysely, sql } from 'kysely';

// The double-entry ledger (DESIGN sections 8 and 12, invariant 5). Why the tables look as they do is in
// docs/ledger.md; the short version:
// - account ids are derived from the account's natural key, so every writer names the same row and
//   locks in one global order (ascending id) without first reading it back;
// - entries carry no foreign key to accounts: a foreign-key check takes a KEY SHARE lock on the parent,
//   and on a busy account those shared locks from many writers become MultiXacts. Accounts are
//   immutable (trigger below) and `payctl ledger verify` checks for orphans instead;
// - a cached balance is split into slots so that accounts that may go negative are never one hot row;
//   accounts that may not go negative use slot 0 only, locked, and a CHECK refuses a negative slot.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table ledger_accounts (
      id text primary key,
      type text not null check (type in (
        'merchant_available', 'merchant_pending', 'merchant_fees', 'merchant_disputes',
        'provider_clearing', 'customer_wallet', 'external', 'losses')),
      livemode boolean not null,
      currency text not null check (currency ~ '^[a-z]{3}$'),
      merchant_id text,
      owner_id text,
      may_go_negative boolean not null,
      created_at timestamptz not null,
      unique nulls not distinct (livemode, type, merchant_id, owner_id, currency)
    );
    create index ledger_accounts_merchant on ledger_accounts (merchant_id, livemode, type)
      where merchant_id is not null;

    create table ledger_transactions (
      id text primary key,
      key text not null unique,
      content_hash text not null,
      merchant_id text,
      livemode boolean not null,
      kind text not null,
      source_type text not null,
      source_id text not null,
      description text,
      created_at timestamptz not null,
      -- Stripe's balance transaction view of this posting for its merchant; null when the posting does
      -- not move the merchant's available, pending or fee balance.
      bt_currency text,
      bt_net bigint,
      bt_fee bigint,
      available_on timestamptz not null
    );
    create index ledger_transactions_balance_list
      on ledger_transactions (merchant_id, livemode, created_at desc, id desc)
      where bt_currency is not null;

    create table ledger_entries (
      id bigint generated always as identity primary key,
      transaction_id text not null references ledger_transactions(id),
      account_id text not null,
      merchant_id text,
      livemode boolean not null,
      currency text not null,
      amount bigint not null check (amount <> 0),
      created_at timestamptz not null
    );
    create index ledger_entries_transaction on ledger_entries (transaction_id);
    create index ledger_entries_account on ledger_entries (account_id, id);

    create table ledger_balances (
      account_id text not null,
      slot smallint not null check (slot >= 0),
      merchant_id text,
      may_go_negative boolean not null,
      balance bigint not null,
      version bigint not null check (version >= 0),
      primary key (account_id, slot),
      check (may_go_negative or (slot = 0 and balance >= 0))
    );

    -- Merchant pending funds waiting for their available_on; the release job posts pending -> available
    -- once per row and records the release here. Not ledger truth, so it may be updated.
    create table ledger_availability (
      transaction_id text primary key references ledger_transactions(id),
      merchant_id text not null,
      livemode boolean not null,
      currency text not null,
      amount bigint not null,
      available_on timestamptz not null,
      released_transaction_id text references ledger_transactions(id)
    );
    create index ledger_availability_due on ledger_availability (available_on)
      where released_transaction_id is null;

    -- Append-only: corrections are new transactions, never edits. Accounts are immutable as well,
    -- which is what lets entries skip the foreign key.
    create function ledger_append_only() returns trigger language plpgsql as $$
    begin
      raise exception '% is append-only (% refused)', tg_table_name, tg_op using errcode = 'P0001';
    end $$;
    create trigger ledger_transactions_append_only before update or delete on ledger_transactions
      for each row execute function ledger_append_only();
    create trigger ledger_transactions_no_truncate before truncate on ledger_transactions
      for each statement execute function ledger_append_only();
    create trigger ledger_entries_append_only before update or delete on ledger_entries
      for each row execute function ledger_append_only();
    create trigger ledger_entries_no_truncate before truncate on ledger_entries
      for each statement execute function ledger_append_only();
    create trigger ledger_accounts_append_only before update or delete on ledger_accounts
      for each row execute function ledger_append_only();
    create trigger ledger_accounts_no_truncate before truncate on ledger_accounts
      for each statement execute function ledger_append_only();
  `.execute(db);
}
