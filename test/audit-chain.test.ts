// The audit log's hash chain (DESIGN invariant 7), on PGlite and PostgreSQL: every operator action is
// chained; an edited, a deleted and a reordered row (each done as a superuser with the append-only
// trigger off) are each found and named by id; a tail truncated behind the published head is found;
// personal data never enters a row; migration 0026 chains the rows it finds.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdjustableClock } from '../src/clock.js';
import { connectPglite, connectPostgres, type DatabaseHandle } from '../src/db/connect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { migrations } from '../src/db/migrations/index.js';
import { AuditService } from '../src/modules/audit/audit.service.js';
import { GENESIS_HASH } from '../src/modules/audit/audit-chain.js';
import { verifyAuditChain } from '../src/modules/audit/audit-chain.verify.js';
import { HEADS_FILE } from '../src/modules/audit/audit-head.js';
import { REDACTED } from '../src/modules/audit/personal-data.js';
import { createLogger } from '../src/observability/logger.js';
import { type AuditChainReport, asSuperuser, chainRows } from './support/audit-chain.js';
import { createTestDatabase } from './support/postgres.js';
import { startTestService, type TestService, testDatabaseKind } from './support/service.js';
import { waitFor } from './support/wait.js';

const headDir = mkdtempSync(path.join(tmpdir(), 'audit-heads-'));
const headsFile = path.join(headDir, HEADS_FILE);
let t: TestService;
const db = () => t.service.database.db;

beforeAll(async () => {
  t = await startTestService({ env: { AUDIT_HEAD_DIR: headDir } });
  // A few real operator actions, each an audit row.
  for (const name of ['one', 'two', 'three', 'four']) {
    const token = await t.admin.post('/admin/tokens', { name });
    expect(token.status, token.text).toBe(200);
  }
});
afterAll(async () => {
  await t.close();
});

async function verify(): Promise<AuditChainReport> {
  const reply = await t.admin.get<AuditChainReport>('/admin/audit/verify');
  expect(reply.status, reply.text).toBe(200);
  return reply.body;
}

/** Two neighbouring rows in the middle of the chain (token creations from beforeAll). */
async function middleRows() {
  const rows = (await chainRows(db())).filter((row) => row.action === 'operator_token.create');
  const [a, b] = rows.slice(1, 3);
  if (!a || !b) throw new Error('expected token creations in the audit log');
  return { a, b };
}

describe('audit hash chain', () => {
  it('links every row to the one before and verifies intact', async () => {
    const rows = await chainRows(db());
    expect(rows.length).toBeGreaterThan(5);
    expect(rows[0]?.prev_hash).toBe(GENESIS_HASH);
    for (let i = 1; i < rows.length; i++) expect(rows[i]?.prev_hash).toBe(rows[i - 1]?.hash);
    const report = await verify();
    expect(report).toMatchObject({ ok: true, problem_count: 0 });
    expect(report.rows).toBeGreaterThanOrEqual(rows.length);
    const listed = await t.admin.get<{ data: { hash: string }[] }>('/admin/audit', { limit: 1 });
    expect(listed.body.data[0]?.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('finds an edited row and names it', async () => {
    const { a } = await middleRows();
    const before = await sql<{
      v: string;
    }>`select new_value::text as v from audit_log where id = ${a.id}`.execute(db());
    await asSuperuser(db(), (trx) =>
      sql`update audit_log set new_value = '{"name":"forged"}' where id = ${a.id}`.execute(trx),
    );
    const report = await verify();
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'edited', id: a.id, seq: a.seq })]);
    await asSuperuser(db(), (trx) =>
      sql`update audit_log set new_value = ${before.rows[0]?.v}::jsonb where id = ${a.id}`.execute(trx),
    );
    expect((await verify()).ok).toBe(true);
  });

  it('finds a deleted row, naming the row after it', async () => {
    const { a, b } = await middleRows();
    await asSuperuser(db(), async (trx) => {
      await sql`create table audit_saved as select * from audit_log where id = ${a.id}`.execute(trx);
      await sql`delete from audit_log where id = ${a.id}`.execute(trx);
    });
    const report = await verify();
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'deleted', id: b.id, seq: b.seq })]);
    await asSuperuser(db(), async (trx) => {
      await sql`insert into audit_log overriding system value select * from audit_saved`.execute(trx);
      await sql`drop table audit_saved`.execute(trx);
    });
    expect((await verify()).ok).toBe(true);
  });

  it('finds two rows swapped in order, naming both', async () => {
    const { a, b } = await middleRows();
    const swap = () =>
      asSuperuser(db(), async (trx) => {
        await sql`alter table audit_log alter column seq set generated by default`.execute(trx);
        await sql`update audit_log set seq = -1 where id = ${a.id}`.execute(trx);
        await sql`update audit_log set seq = ${a.seq} where id = ${b.id}`.execute(trx);
        await sql`update audit_log set seq = ${b.seq} where id = ${a.id}`.execute(trx);
        await sql`alter table audit_log alter column seq set generated always`.execute(trx);
      });
    await swap();
    const report = await verify();
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => [p.kind, p.id])).toEqual([
      ['reordered', b.id],
      ['reordered', a.id],
    ]);
    await asSuperuser(db(), async (trx) => {
      await sql`alter table audit_log alter column seq set generated by default`.execute(trx);
      await sql`update audit_log set seq = -1 where id = ${a.id}`.execute(trx);
      await sql`update audit_log set seq = ${b.seq} where id = ${b.id}`.execute(trx);
      await sql`update audit_log set seq = ${a.seq} where id = ${a.id}`.execute(trx);
      await sql`alter table audit_log alter column seq set generated always`.execute(trx);
    });
    expect((await verify()).ok).toBe(true);
  });

  it('keeps personal data out of the rows: ids only', async () => {
    const email = 'new.operator@example.test';
    const created = await t.admin.post<{ id: string }>('/admin/operators', {
      email,
      password: 'a long enough password',
      role: 'payment-viewer',
    });
    expect(created.status, created.text).toBe(200);
    const rows = await db()
      .selectFrom('audit_log')
      .selectAll()
      .where('resource_id', '=', created.body.id)
      .execute();
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows)).not.toContain(email);

    // The second net: a caller that passes personal data by value has it replaced before it is chained.
    const row = await t.service.services.audit.record({
      actor: { type: 'system', id: null },
      action: 'test.personal_data',
      outcome: 'success',
      newValue: { email, note: email, card: '4242 4242 4242 4242', customer: 'cus_123' },
    });
    expect(row.new_value).toEqual({ email: REDACTED, note: REDACTED, card: REDACTED, customer: 'cus_123' });
    expect((await verify()).ok).toBe(true);
  });

  it('publishes the head hourly and on demand, and finds a tail truncated behind it', async () => {
    const published = await t.admin.post<{ seq: number; id: string; hash: string }>(
      '/admin/audit/head/publish',
    );
    expect(published.status, published.text).toBe(200);
    const lines = () =>
      readFileSync(headsFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
    expect(lines().at(-1)).toMatchObject({ seq: published.body.seq, hash: published.body.hash });
    expect(t.logs.some((l) => l.msg === 'audit chain head published')).toBe(true);

    // The hourly job, on the test clock.
    await t.api.post('/_test/clock', { advance_seconds: 3601 });
    await waitFor('the hourly head publication', () => lines().length >= 2);
    expect((await verify()).ok).toBe(true);

    // A careful attacker removes the tail from the published head on and moves audit_chain_head back:
    // the chain left is consistent, but the published head is no longer in it.
    const first = published.body;
    await asSuperuser(db(), async (trx) => {
      await sql`delete from audit_log where seq >= ${first.seq}`.execute(trx);
      const tail = await trx
        .selectFrom('audit_log')
        .select(['seq', 'id', 'hash'])
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirstOrThrow();
      await trx.updateTable('audit_chain_head').set(tail).execute();
    });
    const report = await t.service.services.audit.verify();
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.kind)).not.toContain('deleted');
    expect(report.problems).toContainEqual(
      expect.objectContaining({ kind: 'published_head_missing', seq: first.seq, id: first.id }),
    );
  });
});

describe('migration 0026', () => {
  it('chains the audit rows already present', async () => {
    const handle = await openFreshDatabase();
    try {
      const migrator = new Migrator({
        db: handle.db,
        provider: { getMigrations: async () => migrations },
      });
      const before = await migrator.migrateTo('0021_reviews');
      expect(before.error).toBeUndefined();
      for (const [i, value] of [{ b: 1, a: [1, 2] }, null, { nested: { z: 'é', y: 2.5 } }].entries()) {
        await sql`insert into audit_log (id, occurred_at, actor_type, actor_id, action, outcome, new_value)
          values (${`aud_old${i}`}, ${new Date(Date.UTC(2026, 0, 1, 0, i))}, 'cli', null, 'old.action', 'success',
            ${value === null ? null : JSON.stringify(value)})`.execute(handle.db);
      }
      await migrateToLatest(handle.db);
      const rows = await chainRows(handle.db);
      expect(rows.map((r) => r.id)).toEqual(['aud_old0', 'aud_old1', 'aud_old2']);
      expect(rows[0]?.prev_hash).toBe(GENESIS_HASH);
      const report = await verifyAuditChain(handle.db, { source: null, heads: [] });
      expect(report).toMatchObject({ ok: true, rows: 3, head: { seq: rows[2]?.seq, hash: rows[2]?.hash } });

      // New rows continue the migrated chain.
      const audit = new AuditService(handle.db, new AdjustableClock());
      const next = await audit.record({
        actor: { type: 'cli', id: null },
        action: 'new.action',
        outcome: 'success',
      });
      expect(next.prev_hash).toBe(rows[2]?.hash);
      expect((await audit.verify()).ok).toBe(true);
    } finally {
      await handle.close();
    }
  });
});

async function openFreshDatabase(): Promise<DatabaseHandle & { close(): Promise<void> }> {
  if (testDatabaseKind() === 'pglite') return connectPglite(undefined);
  const database = await createTestDatabase();
  const handle = connectPostgres({
    url: database.url,
    poolSize: 2,
    poolTimeoutMs: 5_000,
    logger: createLogger({ level: 'silent' }),
  });
  return {
    ...handle,
    async close() {
      await handle.close();
      await database.drop();
    },
  };
}
