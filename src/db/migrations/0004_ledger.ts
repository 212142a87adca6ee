import { type Kysely, sql } from 'kysely';

// The double-entry ledger (DESIGN sections 8 and 12, invariant 5). Why the tables look as they do is in
// docs/ledger.md; the short version:
// - account ids are derived from the account's natural key, so every writer names the same row and
//   locks in one global order (ascending id) without first reading it back;
// - entries carry no foreign keys: a foreign-key check takes a KEY SHARE lock on the parent, and on a
//   busy account those shared locks from many writers become MultiXacts; towards the transaction it is
//   a per-row trigger for what ledger_post() writes together anyway. Accounts are immutable (trigger
//   below) and `payctl ledger verify` checks for orphans;
// - a cached balance is split into slots so that accounts that may go negative are never one hot row;
//   accounts that may not go negative use slot 0 only, locked, and a CHECK refuses a negative slot;
// - ledger_post() locks, checks and writes in one round trip. It is a function rather than one statement
//   because every statement of a function reads a fresh snapshot: after the locks are taken, the checks
//   and updates see the latest balances. A single statement checks against the snapshot it started with,
//   and under concurrency that let checked postings still hit the CHECK.
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
      transaction_id text not null,
      account_id text not null,
      merchant_id text,
      livemode boolean not null,
      currency text not null,
      amount bigint not null check (amount <> 0),
      created_at timestamptz not null
    );
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
      transaction_id text primary key,
      merchant_id text not null,
      livemode boolean not null,
      currency text not null,
      amount bigint not null,
      available_on timestamptz not null,
      released_transaction_id text
    );
    create index ledger_availability_due on ledger_availability (available_on)
      where released_transaction_id is null;

    -- Posts transactions in order, each written or refused on its own: 'short' (with the balances) if
    -- an account that may not go negative would, 'exists' if the key was posted before (the caller
    -- compares content), else 'posted'. The accounts that may not go negative (p_guarded) are locked
    -- first, in ascending id order, so concurrent calls never deadlock. The checks run in memory over
    -- the locked balances, then each table is written by one set-based statement, so a batch costs a
    -- few statements rather than a few per posting. Postings are parallel arrays p_*; entries are
    -- parallel arrays e_*, those of posting i at p_first[i] .. p_first[i] + p_count[i] - 1.
    -- One attempt of ledger_post(), with the accounts already locked and the keys known to exist.
    create function ledger_post_attempt(
      p_guarded text[], p_id text[], p_key text[], p_hash text[], p_merchant text[], p_livemode boolean[],
      p_kind text[], p_source_type text[], p_source_id text[], p_description text[],
      p_created timestamptz[], p_available_on timestamptz[], p_bt_currency text[], p_bt_net bigint[],
      p_bt_fee bigint[], p_pending_currency text[], p_pending_amount bigint[], p_first int[], p_count int[],
      e_posting int[], e_account text[], e_currency text[], e_amount bigint[], e_guarded boolean[],
      e_slot smallint[], e_owner text[],
      p_existing text[]
    ) returns jsonb language plpgsql volatile as $$
    declare
      n int := coalesce(cardinality(p_id), 0);
      v_balance bigint[];
      v_keys text[];
      v_status text[];
      v_short jsonb[];
      v_accept boolean[];
      v_count int;
      v_inserted int;
      v_ok boolean;
      k int;
    begin
      -- Every statement of a function reads a fresh snapshot: these are the latest, locked balances.
      v_balance := array(
        select b.balance from unnest(p_guarded) with ordinality as g(account_id, o)
        left join ledger_balances b on b.account_id = g.account_id and b.slot = 0 order by g.o);
      v_keys := '{}';
      v_status := array_fill(null::text, array[n]);
      v_short := array_fill(null::jsonb, array[n]);
      v_accept := array_fill(false, array[n]);
      v_count := 0;
      for i in 1 .. n loop
        if p_key[i] = any(p_existing) or p_key[i] = any(v_keys) then
          v_status[i] := 'exists';
          continue;
        end if;
        v_ok := true;
        for j in p_first[i] .. p_first[i] + p_count[i] - 1 loop
          if e_guarded[j] then
            k := array_position(p_guarded, e_account[j]);
            if k is null or v_balance[k] is null or v_balance[k] + e_amount[j] < 0 then
              v_ok := false;
            end if;
          end if;
        end loop;
        if not v_ok then
          v_status[i] := 'short';
          v_short[i] := (select jsonb_object_agg(a, v_balance[array_position(p_guarded, a)])
            from unnest(e_account[p_first[i]:p_first[i] + p_count[i] - 1],
              e_guarded[p_first[i]:p_first[i] + p_count[i] - 1]) as u(a, g) where g);
          continue;
        end if;
        for j in p_first[i] .. p_first[i] + p_count[i] - 1 loop
          if e_guarded[j] then
            k := array_position(p_guarded, e_account[j]);
            v_balance[k] := v_balance[k] + e_amount[j];
          end if;
        end loop;
        v_status[i] := 'posted';
        v_accept[i] := true;
        v_keys := v_keys || p_key[i];
        v_count := v_count + 1;
      end loop;

      if v_count > 0 then
        insert into ledger_transactions (id, key, content_hash, merchant_id, livemode, kind, source_type,
            source_id, description, created_at, bt_currency, bt_net, bt_fee, available_on)
          select p_id[i], p_key[i], p_hash[i], p_merchant[i], p_livemode[i], p_kind[i], p_source_type[i],
            p_source_id[i], p_description[i], p_created[i], p_bt_currency[i], p_bt_net[i], p_bt_fee[i],
            p_available_on[i]
          from generate_series(1, n) as i where v_accept[i]
          -- In key order: batches sharing keys wait on each other's keys in one order, never in a cycle.
          order by p_key[i]
          on conflict (key) do nothing;
        get diagnostics v_inserted = row_count;
        if v_inserted < v_count then
          -- A key in p_existing's blind spot: committed concurrently, or (one posting) not looked up.
          -- A single posting has written nothing else yet, so it simply exists. In a batch, later
          -- postings may have counted on this one: ledger_post undoes the attempt and decides again.
          if n > 1 then
            raise exception 'posting key committed concurrently' using errcode = 'LP001';
          end if;
          return jsonb_build_array(jsonb_build_object('status', 'exists'));
        end if;

        insert into ledger_entries (transaction_id, account_id, merchant_id, livemode, currency, amount,
            created_at)
          select p_id[e.i], e.account_id, p_merchant[e.i], p_livemode[e.i], e.currency, e.amount, p_created[e.i]
          from unnest(e_posting, e_account, e_currency, e_amount) with ordinality
            as e(i, account_id, currency, amount, o)
          where v_accept[e.i]
          order by e.o;

        if true = any(e_guarded) then
          update ledger_balances b set balance = b.balance + s.delta, version = b.version + s.entries
            from (
              select e.account_id, sum(e.amount) as delta, count(*) as entries
              from unnest(e_posting, e_account, e_amount, e_guarded) as e(i, account_id, amount, guarded)
              where e.guarded and v_accept[e.i]
              group by e.account_id
            ) s
            where b.account_id = s.account_id and b.slot = 0;
        end if;

        -- In (account, slot) order, so that concurrent calls take these row locks in one order too.
        if false = any(e_guarded) then
          insert into ledger_balances as lb (account_id, slot, merchant_id, may_go_negative, balance, version)
            select e.account_id, e.slot, e.owner, true, sum(e.amount), count(*)
            from unnest(e_posting, e_account, e_slot, e_owner, e_amount, e_guarded)
              as e(i, account_id, slot, owner, amount, guarded)
            where not e.guarded and v_accept[e.i]
            group by e.account_id, e.slot, e.owner
            order by e.account_id, e.slot
            on conflict (account_id, slot) do update
              set balance = lb.balance + excluded.balance, version = lb.version + excluded.version;
        end if;

        if cardinality(array_remove(p_pending_amount, null)) > 0 then
          insert into ledger_availability (transaction_id, merchant_id, livemode, currency, amount, available_on)
            select p_id[i], p_merchant[i], p_livemode[i], p_pending_currency[i], p_pending_amount[i],
              p_available_on[i]
            from generate_series(1, n) as i
            where v_accept[i] and p_pending_amount[i] is not null;
        end if;
      end if;
      if n = 1 then
        return jsonb_build_array(jsonb_build_object('status', v_status[1], 'balances', v_short[1]));
      end if;
      return (select jsonb_agg(jsonb_build_object('status', v_status[i], 'balances', v_short[i]) order by i)
        from generate_series(1, n) as i);
    end $$;

    create function ledger_post(
      p_guarded text[], p_id text[], p_key text[], p_hash text[], p_merchant text[], p_livemode boolean[],
      p_kind text[], p_source_type text[], p_source_id text[], p_description text[],
      p_created timestamptz[], p_available_on timestamptz[], p_bt_currency text[], p_bt_net bigint[],
      p_bt_fee bigint[], p_pending_currency text[], p_pending_amount bigint[], p_first int[], p_count int[],
      e_posting int[], e_account text[], e_currency text[], e_amount bigint[], e_guarded boolean[],
      e_slot smallint[], e_owner text[]
    ) returns jsonb language plpgsql volatile as $$
    declare
      v_existing text[];
    begin
      if cardinality(p_guarded) > 0 then
        perform 1 from ledger_balances where account_id = any(p_guarded) and slot = 0
          order by account_id for update;
      end if;
      if coalesce(cardinality(p_id), 0) <= 1 then
        -- One posting needs no list of existing keys: its transaction insert is its first write, and
        -- a key that exists already simply inserts nothing.
        return ledger_post_attempt(p_guarded, p_id, p_key, p_hash, p_merchant, p_livemode, p_kind, p_source_type,
        p_source_id, p_description, p_created, p_available_on, p_bt_currency, p_bt_net, p_bt_fee,
        p_pending_currency, p_pending_amount, p_first, p_count, e_posting, e_account, e_currency, e_amount,
        e_guarded, e_slot, e_owner, '{}');
      end if;
      v_existing := array(select key from ledger_transactions where key = any(p_key));
      loop
        begin
          return ledger_post_attempt(p_guarded, p_id, p_key, p_hash, p_merchant, p_livemode, p_kind, p_source_type,
        p_source_id, p_description, p_created, p_available_on, p_bt_currency, p_bt_net, p_bt_fee,
        p_pending_currency, p_pending_amount, p_first, p_count, e_posting, e_account, e_currency, e_amount,
        e_guarded, e_slot, e_owner, v_existing);
        exception when sqlstate 'LP001' then
          -- The block is a subtransaction: the attempt is undone, the locks taken above are kept.
          v_existing := array(select key from ledger_transactions where key = any(p_key));
        end;
      end loop;
    end $$;

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
