// Job pools: a definition may declare its own concurrency pool, claimed separately, so a pool full of
// slow jobs (webhook receivers timing out) never holds the default pool's jobs, and a pool's own slots
// cap only that pool.
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Database } from '../src/db/schema.js';
import { JobRunner } from '../src/jobs/runner.js';
import { waitFor } from './support/jobs.js';
import { startTestService, type TestService } from './support/service.js';

let t: TestService;
let db: Kysely<Database>;
beforeAll(async () => {
  t = await startTestService();
  db = t.service.database.db;
});
afterAll(async () => {
  await t.close();
});

const payload = z.object({ n: z.number().int() });

describe('job pools', () => {
  it('runs default-pool jobs while a named pool is full of slow jobs, and sizes each pool alone', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const runner = new JobRunner({
      db,
      clock: t.service.clock,
      logger: t.service.logger,
      metrics: t.service.metrics,
      pollIntervalMs: 20,
      concurrency: 1,
      pools: { slow: 6 },
    });
    const slowStarted: number[] = [];
    const fastRan: number[] = [];
    runner.register({
      name: 'test.pool.slow',
      version: 1,
      payload,
      pool: 'slow',
      handler: async ({ n }) => {
        slowStarted.push(n);
        await held;
      },
    });
    runner.register({
      name: 'test.pool.fast',
      version: 1,
      payload,
      handler: async ({ n }) => {
        fastRan.push(n);
      },
    });
    runner.start();
    try {
      for (let n = 0; n < 10; n++) await runner.enqueue(db, 'test.pool.slow', { n });
      // Six slow jobs hold the six slots of their pool, more than the default pool's single slot.
      await waitFor('the slow pool to fill', () => slowStarted.length === 6);
      expect(runner.inFlight('slow')).toBe(6);
      for (let n = 0; n < 5; n++) await runner.enqueue(db, 'test.pool.fast', { n });
      await waitFor('every default-pool job', () => fastRan.length === 5);
      // The slow pool never took more than its slots while the default pool worked beside it.
      expect(slowStarted.length).toBe(6);
      release();
      await waitFor('the rest of the slow jobs', () => slowStarted.length === 10);
    } finally {
      release();
      await runner.stop();
      await db.deleteFrom('jobs').where('name', 'in', ['test.pool.slow', 'test.pool.fast']).execute();
    }
  });

  it('refuses a definition naming a pool the runner was not given', () => {
    const runner = new JobRunner({
      db,
      clock: t.service.clock,
      logger: t.service.logger,
      metrics: t.service.metrics,
      pollIntervalMs: 20,
      concurrency: 1,
    });
    expect(() =>
      runner.register({
        name: 'test.pool.nowhere',
        version: 1,
        payload,
        pool: 'nowhere',
        handler: async () => {},
      }),
    ).toThrow(/unknown pool nowhere/);
  });
});
