// Replicas starting together on a fresh database: migrations apply once and every process comes up
// (PostgreSQL, multi-process: several in-process services racing on one new database).

import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';
import { startTestService, type TestService } from './support/service.js';

const databases: TestDatabase[] = [];
const services: TestService[] = [];
afterAll(async () => {
  await Promise.all(services.map((s) => s.close()));
  for (const database of databases) await database.drop();
});

describe('migrations under concurrent starts (PostgreSQL, multi-process)', () => {
  it('four services racing on a fresh database all start, and each migration is applied once', async () => {
    for (let round = 0; round < 3; round++) {
      const database = await createTestDatabase();
      databases.push(database);
      const started = await Promise.all(
        Array.from({ length: 4 }, () => startTestService({ databaseUrl: database.url })),
      );
      services.push(...started);
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      const rows = await client.query(
        'select version, count(*)::int as n from schema_migrations group by version',
      );
      await client.end();
      expect(rows.rows.length).toBeGreaterThan(0);
      expect(rows.rows.every((row) => row.n === 1)).toBe(true);
    }
  }, 120_000);
});
