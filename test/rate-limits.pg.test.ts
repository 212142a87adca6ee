// Rate limits across real service processes (issue 9's OWASP list: "rate limits hold across two service
// processes sharing Redis, and still limit after FLUSHDB"): two `payctl start` processes on one PostgreSQL
// database and one Redis draw on one allowance per shopper; a FLUSHDB starts the allowance afresh and it
// still holds.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { Api } from './support/http.js';
import { createTestDatabase } from './support/postgres.js';
import { type RunningProcess, spawnPayctl } from './support/processes.js';

const REDIS_URL = 'redis://127.0.0.1:6379/15';
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function startService(env: Record<string, string>): Promise<string> {
  const port = await freePort();
  const running: RunningProcess = spawnPayctl(['start'], { ...env, PORT: String(port) });
  cleanups.push(() => {
    if (running.child.exitCode === null) running.child.kill('SIGKILL');
  });
  await running.waitFor('payment service listening', 60_000);
  return `http://127.0.0.1:${port}`;
}

it('shares one allowance between two processes through Redis, and still limits after FLUSHDB', async () => {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const env = {
    HOST: '127.0.0.1',
    DATABASE_URL: database.url,
    REDIS_URL,
    BOOTSTRAP_SECRET_KEY: `sk_test_${randomBytes(16).toString('hex')}`,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_SHOPPER_PER_MINUTE: '4',
  };
  const first = await startService(env);
  const second = await startService(env);
  const [a, b] = [new Api(first, env.BOOTSTRAP_SECRET_KEY), new Api(second, env.BOOTSTRAP_SECRET_KEY)];
  const pay = (api: Api) =>
    api.post<{ error?: { type: string } }>('/v1/payment_intents', {
      amount: 500,
      currency: 'usd',
      customer: shopper,
    });
  const shopper = (await a.post<{ id: string }>('/v1/customers', { email: 'shared@example.com' })).body.id;

  // Two payments through each process use up the shopper's four; the fifth is refused by either.
  for (const api of [a, b, a, b]) expect((await pay(api)).status).toBe(200);
  expect((await pay(b)).status).toBe(429);
  expect((await pay(a)).status).toBe(429);

  const redis = new Redis(REDIS_URL);
  cleanups.push(() => redis.disconnect());
  await redis.flushdb();
  for (const api of [b, a, b, a]) expect((await pay(api)).status).toBe(200);
  const refused = await pay(b);
  expect(refused.status).toBe(429);
  expect(refused.body.error?.type).toBe('rate_limit_error');
}, 180_000);
