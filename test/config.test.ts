// Configuration fails loudly and names the variable (CONVENTIONS: parsed once, frozen), both through
// loadConfig and through a real `payctl start`; and the runbook 000 pool settings reach the pool.
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { runPayctl } from './support/processes.js';
import { startTestService, type TestService, testDatabaseKind } from './support/service.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DB_POOL_SIZE', '0'],
    ['DB_POOL_TIMEOUT', 'soon'],
    ['DATABASE_URL', 'mysql://x'],
    ['REDIS_URL', 'http://127.0.0.1:6379'],
    ['TEST_CLOCK', 'maybe'],
    ['ENHANCED_MONITORING', 'sometimes'],
    ['OTEL_TRACES_SAMPLER_ARG', '2'],
    ['BOOTSTRAP_ADMIN_PASSWORD', 'short'],
    ['APP_ENV', 'prod'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${name}: `));
  });

  it('reports every malformed variable at once', () => {
    const problems = problemsOf({
      PORT: 'abc',
      DB_POOL_SIZE: '0',
      DATABASE_URL: 'mysql://x',
      TEST_CLOCK: 'maybe',
      BOOTSTRAP_ADMIN_PASSWORD: 'short',
    });
    const named = problems.map((problem) => problem.split(':')[0]).sort();
    expect(named).toEqual(['BOOTSTRAP_ADMIN_PASSWORD', 'DATABASE_URL', 'DB_POOL_SIZE', 'PORT', 'TEST_CLOCK']);
    const error = new ConfigError(problems);
    expect(error.message).toContain('PORT: must be a whole number (got "abc")');
  });

  it('requires a password with the bootstrap admin email, and a replica URL when replicas are on', () => {
    expect(problemsOf({ BOOTSTRAP_ADMIN_EMAIL: 'ops@example.com' })[0]).toMatch(
      /^BOOTSTRAP_ADMIN_PASSWORD: /,
    );
    expect(problemsOf({ READ_REPLICA_ENABLED: 'true' })[0]).toMatch(/^READ_REPLICA_URL: /);
  });

  it('applies defaults and returns a frozen object', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 8080,
      DATA_DIR: './data',
      DB_POOL_SIZE: 10,
      DB_POOL_TIMEOUT: 30,
      databaseKind: 'pglite',
      ENHANCED_MONITORING: false,
      CIRCUIT_BREAKER_ENABLED: true,
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { PORT: number }).PORT = 1;
    }).toThrow(TypeError);
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db', DB_POOL_SIZE: '50' })).toMatchObject({
      databaseKind: 'postgres',
      DB_POOL_SIZE: 50,
    });
  });
});

describe('payctl start with a malformed variable', () => {
  it('exits non-zero naming PORT, without a stack trace', async () => {
    const { code, output } = await runPayctl(['start'], { PORT: 'abc', DATA_DIR: '/nonexistent/never-used' });
    expect(code).not.toBe(0);
    expect(output).toContain('PORT');
    expect(output).toContain('abc');
    expect(output).not.toMatch(/\n\s+at\s/);
    expect(output.trim().split('\n').length).toBeLessThanOrEqual(3);
  });
});

describe.runIf(testDatabaseKind() === 'postgres')('DB_POOL_SIZE and DB_POOL_TIMEOUT (PostgreSQL)', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService({ env: { DB_POOL_SIZE: '2', DB_POOL_TIMEOUT: '1' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  async function serviceConnections(): Promise<number> {
    const client = new pg.Client({ connectionString: t.database?.url });
    await client.connect();
    try {
      const result = await client.query(
        "select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = 'payment-service'",
      );
      return result.rows[0].n;
    } finally {
      await client.end();
    }
  }

  it('opens at most DB_POOL_SIZE connections and queues the rest', async () => {
    expect(t.service.database.poolUsage().size).toBe(2);
    const sleeps = Array.from({ length: 5 }, () => sql`select pg_sleep(0.4)`.execute(t.service.database.db));
    await new Promise((resolve) => setTimeout(resolve, 150));
    const usage = t.service.database.poolUsage();
    expect(usage.inUse).toBe(2);
    expect(usage.waiting).toBeGreaterThanOrEqual(1);
    expect(await serviceConnections()).toBeLessThanOrEqual(2);
    await Promise.all(sleeps);
  });

  it('gives up waiting for a connection after DB_POOL_TIMEOUT and answers 503', async () => {
    // Both connections busy for longer than the pool timeout: a request must fail fast, not hang.
    let holdersDone = false;
    const holders = Promise.all(
      [0, 1].map(() => sql`select pg_sleep(4)`.execute(t.service.database.db)),
    ).then(() => {
      holdersDone = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const reply = await t.merchant.get<{ error: Record<string, string> }>('/v1/customers');
    expect(holdersDone).toBe(false);
    expect(reply.status).toBe(503);
    expect(reply.body.error.type).toBe('api_error');
    await holders;
    expect((await t.merchant.get('/v1/customers')).status).toBe(200);
  });
});

describe.runIf(testDatabaseKind() === 'pglite')('pool on the embedded database', () => {
  it('is the single PGlite connection whatever DB_POOL_SIZE says', async () => {
    const t = await startTestService({ env: { DB_POOL_SIZE: '7' } });
    try {
      expect(t.service.database.poolUsage().size).toBe(1);
    } finally {
      await t.close();
    }
  });
});
