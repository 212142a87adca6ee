// Both drivers return the same JavaScript types, and transactions stay isolated: on PGlite's single
// connection every transaction is exclusive, and one transaction's failure never reaches another.
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../src/db/errors.js';
import { startTestService, type TestService, testDatabaseKind } from './support/service.js';

// biome-ignore lint/suspicious/noExplicitAny: probe tables live outside the typed schema
type AnyDb = Kysely<any>;

let t: TestService;
let db: AnyDb;
beforeAll(async () => {
  t = await startTestService();
  db = t.service.database.db as unknown as AnyDb;
  await sql`
    create table storage_probe (
      id bigint generated always as identity primary key,
      label text not null,
      counter bigint not null default 0,
      at timestamptz not null,
      doc jsonb not null,
      ratio numeric
    )`.execute(db);
});
afterAll(async () => {
  await t?.close();
});

const labels = async () =>
  (await db.selectFrom('storage_probe').select('label').orderBy('label').execute()).map((r) => r.label);

describe(`value types (${testDatabaseKind()})`, () => {
  it('returns int8 as number, timestamptz as Date, jsonb as objects', async () => {
    const at = new Date('2025-03-30T01:30:00.123Z');
    const inserted = await db
      .insertInto('storage_probe')
      .values({
        label: 'types',
        counter: 9_007_199_254_740_991,
        at,
        doc: JSON.stringify({ a: 1, nested: { list: [1, 'two', null] } }),
        ratio: '12.345',
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    expect(typeof inserted.id).toBe('number');
    expect(inserted.counter).toBe(9_007_199_254_740_991);
    expect(inserted.at).toBeInstanceOf(Date);
    expect(inserted.at.getTime()).toBe(at.getTime());
    expect(inserted.doc).toEqual({ a: 1, nested: { list: [1, 'two', null] } });
    // numeric is never money here; it stays a string so nothing is rounded on the way out.
    expect(inserted.ratio).toBe('12.345');

    const row = await sql<Record<string, unknown>>`
      select count(*) as n, sum(counter)::bigint as total, max(at) as latest,
        '[1, {"b": true}]'::jsonb as arr, 42::int8 as literal,
        array[1, null, -9007199254740991]::int8[] as ids, '{{1,2},{3,4}}'::int8[] as grid
      from storage_probe where label = 'types'`.execute(db);
    expect(row.rows[0]).toEqual({
      n: 1,
      total: 9_007_199_254_740_991,
      latest: at,
      arr: [1, { b: true }],
      literal: 42,
      ids: [1, null, -9_007_199_254_740_991],
      grid: [
        [1, 2],
        [3, 4],
      ],
    });
  });

  it('returns dates, intervals, numeric arrays and bytea alike on both drivers', async () => {
    const row = await sql<Record<string, unknown>>`
      select '2025-03-30'::date as day, array['2025-01-01'::date, null] as days,
        interval '1 day 02:00:00' as span, array[1.5, 10.000000000000000001]::numeric[] as ratios,
        '\\x00ff10'::bytea as raw`.execute(db);
    expect(row.rows[0]).toEqual({
      day: '2025-03-30',
      days: ['2025-01-01', null],
      span: '1 day 02:00:00',
      ratios: ['1.5', '10.000000000000000001'],
      raw: Buffer.from([0, 255, 16]),
    });
    expect(Buffer.isBuffer(row.rows[0]?.raw)).toBe(true);
  });

  it('refuses an int8 a JavaScript number cannot hold exactly', async () => {
    await expect(sql`select 9007199254740993::int8 as big`.execute(db)).rejects.toThrow(/safe integer/);
    // The connection is still usable afterwards.
    expect((await sql<{ one: number }>`select 1::int8 as one`.execute(db)).rows[0]?.one).toBe(1);
  });
});

describe(`transactions (${testDatabaseKind()})`, () => {
  it('50 concurrent read-modify-write transactions produce the exact total', async () => {
    const { id } = await db
      .insertInto('storage_probe')
      .values({ label: 'counter', at: new Date(), doc: '{}' })
      .returning('id')
      .executeTakeFirstOrThrow();
    // PGlite runs each transaction exclusively, so a plain read is safe; PostgreSQL needs the row lock.
    const lock = testDatabaseKind() === 'postgres' ? sql`for update` : sql``;
    await Promise.all(
      Array.from({ length: 50 }, () =>
        db.transaction().execute(async (trx) => {
          const row = await sql<{ counter: number }>`
            select counter from storage_probe where id = ${id} ${lock}`.execute(trx);
          await new Promise((resolve) => setImmediate(resolve));
          await trx
            .updateTable('storage_probe')
            .set({ counter: (row.rows[0]?.counter ?? 0) + 1 })
            .where('id', '=', id)
            .execute();
        }),
      ),
    );
    const final = await db
      .selectFrom('storage_probe')
      .select('counter')
      .where('id', '=', id)
      .executeTakeFirst();
    expect(final?.counter).toBe(50);
  });

  it("keeps one transaction's failing statement out of concurrent work", async () => {
    await db.deleteFrom('storage_probe').where('label', 'like', 'iso-%').execute();
    const failing = db.transaction().execute(async (trx) => {
      await trx
        .insertInto('storage_probe')
        .values({ label: 'iso-failed', at: new Date(), doc: '{}' })
        .execute();
      await new Promise((resolve) => setTimeout(resolve, 30));
      await sql`select 1 / 0`.execute(trx);
    });
    const committed = db.transaction().execute(async (trx) => {
      await trx
        .insertInto('storage_probe')
        .values({ label: 'iso-committed', at: new Date(), doc: '{}' })
        .execute();
    });
    const plain = db
      .insertInto('storage_probe')
      .values({ label: 'iso-plain', at: new Date(), doc: '{}' })
      .execute();
    const plainFailure = sql`select 1 / 0`.execute(db);
    const outcomes = await Promise.allSettled([failing, committed, plain, plainFailure]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'fulfilled', 'fulfilled', 'rejected']);
    expect((await labels()).filter((label) => label.startsWith('iso-'))).toEqual([
      'iso-committed',
      'iso-plain',
    ]);
  });

  it('refuses to report a commit after a swallowed failure, on both drivers', async () => {
    const attempt = db.transaction().execute(async (trx) => {
      await trx
        .insertInto('storage_probe')
        .values({ label: 'swallowed', at: new Date(), doc: '{}' })
        .execute();
      await sql`select 1 / 0`.execute(trx).catch(() => undefined);
    });
    await expect(attempt).rejects.toThrow(/rolled back|aborted/);
    expect(await labels()).not.toContain('swallowed');
    expect((await t.merchant.get('/v1/customers')).status).toBe(200);
  });
});

describe('outage classification', () => {
  it('tells an unreachable database (503, retry) from a failing statement (a bug, 500)', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED ::1:5432'), { code: 'ECONNREFUSED' });
    expect(isDatabaseUnavailable(new AggregateError([refused, refused]))).toBe(true);
    expect(isDatabaseUnavailable(new Error('wrapped', { cause: refused }))).toBe(true);
    const failed = await sql`select 1 / 0`.execute(db).catch((error: unknown) => error);
    expect(isDatabaseUnavailable(failed)).toBe(false);
    const missing = await sql`select * from no_such_table`.execute(db).catch((error: unknown) => error);
    expect(isDatabaseUnavailable(missing)).toBe(false);
  });
});
