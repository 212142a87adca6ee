import { type Kysely, sql } from 'kysely';

// Monthly range partitions (issue 8, runbook 003's partition management) for the tables that grow with
// traffic, so retention drops a month with one DROP TABLE instead of deleting rows one by one:
//   events                     by created_at
//   webhook_deliveries         by event_created_at (the event's time, fixed for the delivery's life)
//   webhook_delivery_attempts  by attempted_at
//   webhook_inbox              by occurred_at (the provider's own event time, the same on every redelivery)
// PostgreSQL wants the partition key in every unique constraint. Each key above was chosen so that this
// weakens nothing: a delivery's event_created_at is a function of its event_id, so unique (event_id,
// endpoint_id, event_created_at) is exactly unique (event_id, endpoint_id); an inbound event's
// occurred_at is a function of (provider, provider_event_id), so the inbox still deduplicates across a
// month boundary. Event and delivery ids are random (143 bits) and attempt ids come from a sequence.
// idempotency_keys is not partitioned: see docs/ARCHITECTURE.md (Storage).
// Foreign keys into a partitioned table forbid dropping its partitions, so the two that pointed at events
// and deliveries go; retention drops deliveries no later than their events (config checks the order).
// Each table gets a default partition, so an insert never fails for want of a month; the service creates
// the current and coming months at start and every six hours (src/modules/partitions).
// Existing rows are copied into partitions made for the months they span.

interface Conversion {
  table: string;
  key: string;
  columns: string;
  constraints: string[];
  indexes: string[];
}

const CONVERSIONS: Conversion[] = [
  {
    table: 'events',
    key: 'created_at',
    columns: `
      id text not null,
      merchant_id text not null,
      livemode boolean not null,
      type text not null,
      created_at timestamptz not null,
      object_id text not null,
      data jsonb not null,
      request_id text,
      idempotency_key text`,
    constraints: ['primary key (id, created_at)'],
    indexes: [
      'create index events_list on events (merchant_id, livemode, created_at desc, id desc)',
      'create index events_object on events (object_id)',
    ],
  },
  {
    table: 'webhook_deliveries',
    key: 'event_created_at',
    columns: `
      id text not null,
      event_id text not null,
      endpoint_id text not null references webhook_endpoints (id),
      merchant_id text not null,
      livemode boolean not null,
      status text not null check (status in ('pending', 'succeeded', 'failed', 'dead')),
      attempts integer not null default 0,
      step integer not null default 0,
      rung integer not null default 0,
      next_attempt_at timestamptz,
      last_status_code integer,
      last_error text,
      event_created_at timestamptz not null,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      delivered_at timestamptz`,
    constraints: ['primary key (id, event_created_at)', 'unique (event_id, endpoint_id, event_created_at)'],
    indexes: [
      'create index webhook_deliveries_endpoint on webhook_deliveries (endpoint_id, created_at desc)',
      'create index webhook_deliveries_created on webhook_deliveries (created_at desc, id desc)',
      `create index webhook_deliveries_open on webhook_deliveries (status)
         where status in ('pending', 'failed', 'dead')`,
    ],
  },
  {
    table: 'webhook_delivery_attempts',
    key: 'attempted_at',
    columns: `
      id bigint not null default nextval('webhook_delivery_attempts_id_seq'),
      delivery_id text not null,
      attempted_at timestamptz not null,
      status_code integer,
      error_kind text check (error_kind in ('timeout', 'network', 'unsafe_url')),
      latency_ms integer not null,
      response_excerpt text not null default ''`,
    constraints: ['primary key (id, attempted_at)'],
    indexes: [
      'create index webhook_delivery_attempts_delivery on webhook_delivery_attempts (delivery_id, id)',
    ],
  },
  {
    table: 'webhook_inbox',
    key: 'occurred_at',
    columns: `
      id text not null,
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
      processed_at timestamptz`,
    constraints: ['primary key (id, occurred_at)', 'unique (provider, provider_event_id, occurred_at)'],
    indexes: [
      'create index webhook_inbox_received on webhook_inbox (received_at desc, id desc)',
      'create index webhook_inbox_status on webhook_inbox (status, received_at)',
    ],
  },
];

const monthName = (month: Date) =>
  `${month.getUTCFullYear()}_${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
const nextMonth = (month: Date) => new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1));

export async function up(db: Kysely<unknown>): Promise<void> {
  // The attempts' sequence outlives its table: detached from the old one before that is dropped.
  await sql`alter sequence webhook_delivery_attempts_id_seq owned by none`.execute(db);
  for (const c of CONVERSIONS) {
    const staged = sql.id(`${c.table}_partitioned`);
    await sql`create table ${staged} (${sql.raw(c.columns)}) partition by range (${sql.id(c.key)})`.execute(
      db,
    );
    await sql`create table ${sql.id(`${c.table}_default`)} partition of ${staged} default`.execute(db);
    const months = await sql<{ month: Date }>`
      select distinct date_trunc('month', ${sql.id(c.key)} at time zone 'UTC') at time zone 'UTC' as month
      from ${sql.id(c.table)}`.execute(db);
    for (const { month } of months.rows) {
      const from = new Date(month);
      await sql`create table ${sql.id(`${c.table}_${monthName(from)}`)} partition of ${staged}
        for values from (${sql.lit(from.toISOString())}) to (${sql.lit(nextMonth(from).toISOString())})`.execute(
        db,
      );
    }
    await sql`insert into ${staged} select * from ${sql.id(c.table)}`.execute(db);
  }
  await sql`drop table webhook_delivery_attempts, webhook_deliveries, webhook_inbox, events`.execute(db);
  for (const c of CONVERSIONS) {
    await sql`alter table ${sql.id(`${c.table}_partitioned`)} rename to ${sql.id(c.table)}`.execute(db);
    for (const constraint of c.constraints) {
      await sql`alter table ${sql.id(c.table)} add ${sql.raw(constraint)}`.execute(db);
    }
    for (const index of c.indexes) await sql.raw(index).execute(db);
  }
  await sql`alter sequence webhook_delivery_attempts_id_seq owned by webhook_delivery_attempts.id`.execute(
    db,
  );
}
