// Migration 0023 on a database that already holds rows (PostgreSQL): the events and inbound events written
// before it are in their months' partitions afterwards, with their indexes and uniqueness in place.
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../src/db/migrate.js';
import { migrations } from '../src/db/migrations/index.js';
import type { Database } from '../src/db/schema.js';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';

let database: TestDatabase;
let db: Kysely<Database>;
beforeAll(async () => {
  database = await createTestDatabase();
  db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 2 }) }),
  });
});
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

const names = Object.keys(migrations).sort();
const before = names[names.indexOf('0023_partitions') - 1] as string;

describe('migration 0023 on existing rows', () => {
  it('copies events and inbound events into monthly partitions and keeps their uniqueness', async () => {
    const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
    expect((await migrator.migrateTo(before)).error).toBeUndefined();
    const event = (id: string, at: string) => ({
      id,
      merchant_id: 'acct_x',
      livemode: false,
      type: 'customer.created',
      created_at: new Date(at),
      object_id: `cus_${id}`,
      data: JSON.stringify({ object: {} }),
    });
    await db
      .insertInto('events')
      .values([event('evt_a', '2026-01-31T23:59:00Z'), event('evt_b', '2026-02-01T00:01:00Z')])
      .execute();
    await sql`insert into webhook_inbox (id, provider, provider_event_id, type, subject, payload, occurred_at, received_at)
      values ('whin_a', 'stripe', 'evt_provider', 'customer.created', 'cus_x', '{}', '2026-01-31T23:59:00Z', '2026-02-01T00:01:00Z')`.execute(
      db,
    );

    await migrateToLatest(db);
    const located = await sql<{ id: string; partition: string }>`
      select id, tableoid::regclass::text as partition from events order by id`.execute(db);
    expect(located.rows).toEqual([
      { id: 'evt_a', partition: 'events_2026_01' },
      { id: 'evt_b', partition: 'events_2026_02' },
    ]);
    const inbox = await sql<{
      partition: string;
    }>`select tableoid::regclass::text as partition from webhook_inbox`.execute(db);
    expect(inbox.rows).toEqual([{ partition: 'webhook_inbox_2026_01' }]);
    // The same provider event again: still one row.
    const again =
      await sql`insert into webhook_inbox (id, provider, provider_event_id, type, subject, payload, occurred_at, received_at)
      values ('whin_b', 'stripe', 'evt_provider', 'customer.created', 'cus_x', '{}', '2026-01-31T23:59:00Z', '2026-02-01T00:05:00Z')
      on conflict (provider, provider_event_id, occurred_at) do nothing`.execute(db);
    expect(Number(again.numAffectedRows)).toBe(0);
    const indexes = await sql<{ name: string }>`
      select indexname as name from pg_indexes
      where tablename in ('events', 'webhook_deliveries', 'webhook_delivery_attempts', 'webhook_inbox')
      order by indexname`.execute(db);
    expect(indexes.rows.map((row) => row.name)).toEqual(
      expect.arrayContaining([
        'events_list',
        'events_object',
        'events_pkey',
        'webhook_deliveries_created',
        'webhook_deliveries_endpoint',
        'webhook_deliveries_open',
        'webhook_delivery_attempts_delivery',
        'webhook_inbox_received',
        'webhook_inbox_status',
      ]),
    );
  });
});
