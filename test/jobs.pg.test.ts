// PostgreSQL only (several processes on one database): two services and a third runner with its own
// connection pool share one jobs table through FOR UPDATE SKIP LOCKED. Every job runs exactly once,
// the work is spread across processes, and a process that stops mid-job hands it on after the lease.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { AdjustableClock } from '../src/clock.js';
import { connectPostgres, type DatabaseHandle } from '../src/db/connect.js';
import { defineJob } from '../src/jobs/jobs.js';
import { JobRunner } from '../src/jobs/runner.js';
import { polls, waitFor } from './support/jobs.js';
import { startTestService, type TestService } from './support/service.js';

let a: TestService;
let b: TestService;
let thirdDatabase: DatabaseHandle;
let third: JobRunner;

beforeAll(async () => {
  a = await startTestService();
  const url = a.database?.url as string;
  b = await startTestService({ databaseUrl: url });
  thirdDatabase = connectPostgres({ url, poolSize: 4, poolTimeoutMs: 5_000, logger: a.service.logger });
  third = new JobRunner({
    db: thirdDatabase.db,
    clock: a.service.clock,
    logger: a.service.logger,
    metrics: a.service.metrics,
    pollIntervalMs: 50,
    concurrency: 4,
  });
});
afterAll(async () => {
  await third?.stop();
  await thirdDatabase?.close();
  await b?.close();
  await a?.close();
});

describe('jobs across processes (PostgreSQL)', () => {
  it('runs each of 300 jobs exactly once, shared between the processes', async () => {
    const runs = new Map<number, string[]>();
    const runners = { a: a.service.runner, b: b.service.runner, third };
    for (const [label, runner] of Object.entries(runners)) {
      runner.register(
        defineJob({
          name: 'test.shared',
          version: 1,
          payload: z.object({ n: z.number().int() }),
          handler: async (_payload, context) => {
            runs.set(context.jobId, [...(runs.get(context.jobId) ?? []), label]);
            // A little simulated work, so that claims from the three runners interleave.
            await new Promise((resolve) => setTimeout(resolve, 2));
          },
        }),
      );
    }
    third.start();

    const db = a.service.database.db;
    const ids = await db.transaction().execute(async (trx) => {
      const enqueued: number[] = [];
      for (let n = 0; n < 300; n++)
        enqueued.push((await a.service.runner.enqueue(trx, 'test.shared', { n })) as number);
      return enqueued;
    });
    expect(new Set(ids).size).toBe(300);

    await waitFor('all 300 jobs to run', () => runs.size === 300, 20_000);
    for (const runner of Object.values(runners)) await polls(runner);
    expect([...runs.keys()].sort((x, y) => x - y)).toEqual([...ids].sort((x, y) => x - y));
    const twice = [...runs].filter(([, labels]) => labels.length !== 1);
    expect(twice).toEqual([]);
    const byRunner = Object.fromEntries(
      Object.keys(runners).map((label) => [label, [...runs.values()].filter((l) => l[0] === label).length]),
    );
    expect(byRunner.a).toBeGreaterThan(0);
    expect(byRunner.b).toBeGreaterThan(0);
    expect(await db.selectFrom('jobs').select('id').where('name', '=', 'test.shared').execute()).toEqual([]);
  });

  it('hands a job on to another process once a stopped worker’s lease has passed', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const runs: string[] = [];
    const register = (label: string, runner: JobRunner, work: () => Promise<void>) =>
      runner.register(
        defineJob({
          name: 'test.handed-on',
          version: 1,
          payload: z.object({}),
          leaseMs: 20_000,
          handler: async () => {
            runs.push(label);
            await work();
          },
        }),
      );
    register('a', a.service.runner, () => held);
    register('b', b.service.runner, async () => {});
    // Only A may claim first: B's clock is behind the job's run_at until it is moved.
    const runAt = new Date(a.service.clock.now().getTime() + 5_000);
    const id = (await a.service.runner.enqueue(
      a.service.database.db,
      'test.handed-on',
      {},
      { runAt },
    )) as number;
    (a.service.clock as AdjustableClock).advance(6_000);
    try {
      await waitFor('process A to start the job', () => runs.length === 1);

      // A stops polling with the job unfinished, as a process killed mid-job would leave it.
      await a.service.runner.stop(50);
      await b.api.post('/_test/clock', { advance_seconds: 10 });
      await polls(b.service.runner);
      expect(runs).toEqual(['a']);

      await b.api.post('/_test/clock', { advance_seconds: 20 });
      await waitFor('process B to run the job', () => runs.length === 2);
      expect(runs).toEqual(['a', 'b']);
      const done = await waitFor('the job to be gone', async () =>
        (await b.service.database.db.selectFrom('jobs').select('id').where('id', '=', id).execute())
          .length === 0
          ? 'gone'
          : undefined,
      );
      expect(done).toBe('gone');
    } finally {
      release();
    }
  });
});
