// The service killed between phases (DESIGN section 5): a confirmation is sent, the process dies
// before it records the outcome, the provider charges anyway. After a restart the completer settles the
// attempt from the provider's record and stores the answer, so the client's retry with the same key
// gets the succeeded intent; there is exactly one charge. PostgreSQL only: two real processes.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { sql } from 'kysely';
import { afterAll, expect, it } from 'vitest';
import { connectPostgres } from '../src/db/connect.js';
import { createLogger } from '../src/observability/logger.js';
import { Api } from './support/http.js';
import { createTestDatabase } from './support/postgres.js';
import { type RunningProcess, spawnPayctl } from './support/processes.js';
import { waitFor } from './support/wait.js';

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

function track(process: RunningProcess): RunningProcess {
  cleanups.push(() => {
    if (process.child.exitCode === null) process.child.kill('SIGKILL');
  });
  return process;
}

it('finishes a confirmation interrupted by a crash through the completer, charging once', async () => {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const emulatorPort = await freePort();
  const emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
  const emulatorProcess = track(
    spawnPayctl(['emulator', 'stripe', '--port', String(emulatorPort)], { LOG_LEVEL: 'warn' }),
  );
  await emulatorProcess.waitFor('stripe emulator listening', 30_000);
  const emulator = new Api(emulatorUrl);

  const port = await freePort();
  const secretKey = `sk_test_${randomBytes(16).toString('hex')}`;
  const env = {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: database.url,
    BOOTSTRAP_SECRET_KEY: secretKey,
    STRIPE_API_BASE: emulatorUrl,
    STRIPE_SECRET_KEY: 'sk_test_crash_suite',
    TEST_CLOCK: 'true',
    JOBS_POLL_INTERVAL_MS: '100',
    LOG_LEVEL: 'warn',
  };
  const start = async () => {
    const running = track(spawnPayctl(['start'], env));
    await running.waitFor('payment service listening', 60_000);
    return running;
  };
  const api = new Api(`http://127.0.0.1:${port}`, secretKey);
  const db = connectPostgres({
    url: database.url,
    poolSize: 2,
    poolTimeoutMs: 5_000,
    logger: createLogger({ level: 'silent' }),
  });
  cleanups.push(() => db.close());

  let service = await start();
  // Every provider call now takes 1.5 s: time to kill the service while its confirmation is in flight.
  await emulator.post('/_emulator/faults', { latency_ms: 1500 }, { as: 'json' });
  const body = { amount: 4200, currency: 'usd', payment_method: 'pm_card_visa', confirm: 'true' };
  const first = api
    .post('/v1/payment_intents', body, { headers: { 'Idempotency-Key': 'crash-1' } })
    .catch((error: unknown) => error);
  const attempt = await waitFor(
    'the provider object to be saved (the confirmation is sent right after)',
    async () => {
      const rows = await db.db
        .selectFrom('payment_attempts')
        .selectAll()
        .where('phase', '=', 'confirming')
        .execute();
      return rows[0];
    },
    20_000,
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  service.child.kill('SIGKILL');
  await service.exited;
  expect(await first).toBeInstanceOf(Error);
  await emulator.delete('/_emulator/faults');
  // The emulator finishes the confirmation it received: the card is charged though nobody recorded it.
  const charges = async () => {
    const state = await emulator.get<{ charges: { payment_intent: string; status: string }[] }>(
      '/_emulator/state',
      { types: 'charges' },
    );
    return state.body.charges.filter((charge) => charge.payment_intent === attempt.provider_payment_id);
  };
  await waitFor('the provider to charge', async () => (await charges()).length === 1, 10_000);
  const before = await db.db.selectFrom('payment_intents').select('status').executeTakeFirstOrThrow();
  expect(before.status).toBe('processing');

  service = await start();
  // Past the 90 s idempotency lease and the in-flight window, the completer takes over.
  const moved = await new Api(`http://127.0.0.1:${port}`).post('/_test/clock', { advance_seconds: 300 });
  expect(moved.status, moved.text).toBe(200);
  const stored = await waitFor(
    'the completer to store the answer',
    async () => {
      const row = await sql<{
        response_status: number | null;
      }>`select response_status from idempotency_keys where key = 'crash-1'`.execute(db.db);
      return row.rows[0]?.response_status ?? undefined;
    },
    30_000,
  );
  expect(stored).toBe(200);

  const retry = await api.post<{ id: string; status: string; amount_received: number }>(
    '/v1/payment_intents',
    body,
    {
      headers: { 'Idempotency-Key': 'crash-1' },
    },
  );
  expect(retry.status, retry.text).toBe(200);
  expect(retry.headers.get('idempotent-replayed')).toBe('true');
  expect(retry.body).toMatchObject({ status: 'succeeded', amount_received: 4200 });
  expect(await charges()).toHaveLength(1);
  const counts = await sql<{ intents: number; attempts: number; charges: number }>`
    select (select count(*)::int from payment_intents) as intents,
           (select count(*)::int from payment_attempts) as attempts,
           (select count(*)::int from charges) as charges`.execute(db.db);
  expect(counts.rows[0]).toEqual({ intents: 1, attempts: 1, charges: 1 });
  service.child.kill('SIGTERM');
  await service.exited;
}, 180_000);
