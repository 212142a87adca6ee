// Process lifecycle on PostgreSQL (multi-process and restart tests, hence PostgreSQL only): a SIGTERM
// drains in-flight requests and exits 0; idle connections killed by pg_terminate_backend (runbook 000)
// cost at most one retryable 503; a database restart answers 503 and the service recovers by itself.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { connect, createServer } from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { Api } from './support/http.js';
import { ADMIN_DATABASE_URL, createTestDatabase, type TestDatabase } from './support/postgres.js';
import { createPrivateCluster, type PrivateCluster } from './support/private-cluster.js';
import { spawnPayctl } from './support/processes.js';
import { startTestService } from './support/service.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function startProcess(database: TestDatabase) {
  const port = await freePort();
  const secretKey = `sk_test_${randomBytes(16).toString('hex')}`;
  const running = spawnPayctl(['start'], {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: database.url,
    BOOTSTRAP_SECRET_KEY: secretKey,
    LOG_LEVEL: 'info',
  });
  cleanups.push(() => {
    if (running.child.exitCode === null) running.child.kill('SIGKILL');
  });
  await running.waitFor('payment service listening', 60_000);
  return { running, port, secretKey, api: new Api(`http://127.0.0.1:${port}`, secretKey) };
}

/** A POST whose body arrives in two parts, so the request is in flight for as long as the test likes. */
function slowPost(port: number, key: string, body: string) {
  const request = http.request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/v1/customers',
    agent: false,
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': Buffer.byteLength(body),
    },
  });
  const response = new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    request.on('response', (res) => {
      let text = '';
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      res.on('error', reject);
    });
    request.on('error', reject);
  });
  const half = Math.floor(body.length / 2);
  request.write(body.slice(0, half));
  return { response, finish: () => request.end(body.slice(half)) };
}

async function query<T>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('SIGTERM (spawned payctl start)', () => {
  it('finishes the request in flight, refuses new connections, and exits 0', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const { running, port, secretKey, api } = await startProcess(database);
    expect((await api.get('/v1/customers')).status).toBe(200);

    const slow = slowPost(port, secretKey, 'name=Drained+on+shutdown&email=drain%40example.com');
    await sleep(500); // the headers reach the server; the body is still incomplete
    running.child.kill('SIGTERM');
    await running.waitFor('shutting down', 15_000);
    let refused = false;
    for (let i = 0; i < 100 && !refused; i++) {
      refused = !(await canConnect(port));
      if (!refused) await sleep(50);
    }
    expect(refused).toBe(true);
    expect(running.child.exitCode).toBeNull(); // still draining the slow request

    slow.finish();
    const reply = await slow.response;
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ object: 'customer', email: 'drain@example.com' });
    expect(await running.exited).toEqual({ code: 0, signal: null });
    const rows = await query<{ id: string }>(database.url, 'select id from customers where email = $1', [
      'drain@example.com',
    ]);
    expect(rows.map((row) => row.id)).toEqual([reply.body.id]);
  }, 120_000);
});

describe('idle connections terminated by an operator (runbook 000)', () => {
  it('keeps serving: no crash, no 500, at most one retryable 503', async () => {
    const t = await startTestService();
    cleanups.push(() => t.close());
    // Open several pooled connections, then leave them idle.
    const warm = await Promise.all(Array.from({ length: 6 }, () => t.merchant.get('/v1/customers')));
    expect(warm.every((reply) => reply.status === 200)).toBe(true);
    const name = t.database?.name as string;
    // Runbook 000's statement, run from another database so the session running it is not a target.
    const killed = await query<{ terminated: boolean }>(
      ADMIN_DATABASE_URL,
      "SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity WHERE datname = $1 AND state = 'idle'",
      [name],
    );
    expect(killed.length).toBeGreaterThan(0);

    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const reply = await t.merchant.post<{ error?: { type: string } }>('/v1/customers', {
        name: `after ${i}`,
      });
      statuses.push(reply.status);
      if (reply.status === 503) expect(reply.body.error?.type).toBe('api_error');
    }
    expect(statuses.filter((status) => status !== 200 && status !== 503)).toEqual([]);
    expect(statuses.filter((status) => status === 503).length).toBeLessThanOrEqual(1);
    expect(statuses.at(-1)).toBe(200);
    expect((await t.api.get('/health/ready')).status).toBe(200);
  });
});

describe('database restart (private cluster)', () => {
  let cluster: PrivateCluster;

  it('answers 503 during the outage and recovers by itself', async () => {
    cluster = await createPrivateCluster();
    cleanups.push(() => cluster.destroy());
    const database = await createTestDatabase(cluster.url);
    const { running, api } = await startProcess(database);

    const seen: { status: number; body: { error?: { type?: string } } }[] = [];
    let traffic = true;
    const loop = (async () => {
      while (traffic) {
        const reply = await api.get<{ error?: { type?: string } }>('/v1/customers').catch(() => undefined);
        if (reply) seen.push({ status: reply.status, body: reply.body });
        await sleep(20);
      }
    })();
    await sleep(300);
    cluster.stop('immediate');
    await sleep(1_000); // traffic runs against a stopped database
    const duringOutage = seen.length;
    cluster.start();

    let recovered = false;
    for (let i = 0; i < 300 && !recovered; i++) {
      await sleep(100);
      recovered = seen.slice(duringOutage).some((reply) => reply.status === 200);
    }
    traffic = false;
    await loop;

    expect(recovered).toBe(true);
    expect(running.child.exitCode).toBeNull(); // same process, never restarted
    const failures = seen.filter((reply) => reply.status !== 200);
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) {
      expect(failure.status).toBe(503);
      expect(failure.body.error?.type).toBe('api_error');
    }
    const health = await api.get<{ checks: Record<string, { status: string }> }>('/health/detailed');
    expect(health.body.checks.database?.status).toBe('up');
    expect((await api.post('/v1/customers', { name: 'after restart' })).status).toBe(200);

    running.child.kill('SIGTERM');
    expect((await running.exited).code).toBe(0);
  }, 120_000);
});
