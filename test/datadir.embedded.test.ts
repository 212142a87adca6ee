// Embedded mode as an operator meets it: `payctl start` on a DATA_DIR serves at once, a second process
// on the same folder is refused with a clear message, and data survives a stop and a new start.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Api } from './support/http.js';
import { type RunningProcess, runPayctl, spawnPayctl } from './support/processes.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'payctl-datadir-'));
const secretKey = `sk_test_${randomBytes(16).toString('hex')}`;
const started: RunningProcess[] = [];

afterAll(() => {
  for (const running of started) if (running.child.exitCode === null) running.child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function env() {
  return {
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    BOOTSTRAP_SECRET_KEY: secretKey,
    LOG_LEVEL: 'warn',
  };
}

async function start(): Promise<{ running: RunningProcess; api: Api }> {
  const variables = await env();
  const running = spawnPayctl(['start'], variables);
  started.push(running);
  // Start time is a benchmark's business; on a busy shared machine a first start can take a while.
  await running.waitFor('payment service listening', 60_000);
  return { running, api: new Api(`http://127.0.0.1:${variables.PORT}`, secretKey) };
}

describe('DATA_DIR (embedded PGlite)', () => {
  it('serves, refuses a second process on the same folder, and keeps data across restarts', async () => {
    const first = await start();
    expect((await first.api.get('/health')).status).toBe(200);

    const customer = await first.api.post<{ id: string }>('/v1/customers', { email: 'kept@example.com' });
    expect(customer.status).toBe(200);

    const second = await runPayctl(['start'], await env(), 60_000);
    expect(second.code).not.toBe(0);
    expect(second.output).toMatch(/DATA_DIR .* is in use/);
    expect(second.output).not.toMatch(/\n\s+at\s/);
    // The refused process left the first one alone.
    expect((await first.api.get(`/v1/customers/${customer.body.id}`)).status).toBe(200);

    first.running.child.kill('SIGTERM');
    expect(await first.running.exited).toEqual({ code: 0, signal: null });

    const third = await start();
    const kept = await third.api.get<{ email: string }>(`/v1/customers/${customer.body.id}`);
    expect(kept.status).toBe(200);
    expect(kept.body.email).toBe('kept@example.com');
    third.running.child.kill('SIGTERM');
    expect((await third.running.exited).code).toBe(0);
  }, 180_000);
});
