// Starts the whole service in this process, listening on a free loopback port, on the database the
// project under test names (TEST_DB=pglite: in-memory PGlite; TEST_DB=postgres: a fresh database).
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { type Config, loadConfig } from '../../src/config.js';
import { createService, type Role, type Service } from '../../src/main.js';
import { createLogger } from '../../src/observability/logger.js';
import { Api } from './http.js';
import { TEST_LIMITS } from './limits.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

export const ADMIN_EMAIL = 'admin@example.test';
export const ADMIN_PASSWORD = 'correct horse battery staple';

export const testDatabaseKind = (): 'pglite' | 'postgres' =>
  process.env.TEST_DB === 'postgres' ? 'postgres' : 'pglite';

export interface TestService {
  service: Service;
  config: Config;
  url: string;
  /** Client without a key. */
  api: Api;
  /** The default merchant's test secret key, and a client using it. */
  secretKey: string;
  publishableKey: string;
  merchant: Api;
  merchantId: string;
  /** Operator API token of the bootstrap admin. */
  adminToken: string;
  admin: Api;
  /** Every log line written so far, parsed. */
  logs: Record<string, unknown>[];
  database: TestDatabase | undefined;
  close(): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string>;
  role?: Role;
  /** Reuse a database (e.g. a second process on the same PostgreSQL). */
  databaseUrl?: string;
}

export async function startTestService(options: StartOptions = {}): Promise<TestService> {
  const kind = testDatabaseKind();
  const database = kind === 'postgres' && !options.databaseUrl ? await createTestDatabase() : undefined;
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    APP_ENV: 'test',
    LOG_LEVEL: 'info',
    TEST_CLOCK: 'true',
    JOBS_POLL_INTERVAL_MS: '50',
    BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
    // A bootstrap key keeps the first start from printing a generated key into the test output.
    BOOTSTRAP_SECRET_KEY: `sk_test_${randomBytes(20).toString('hex')}`,
    // Suites send bursts from one key and many bad credentials from 127.0.0.1 on purpose; the limits at
    // their real defaults are proven by rate-limits and ip-blocking tests, which pass '' to get them.
    ...TEST_LIMITS,
    ...((options.databaseUrl ?? database) ? { DATABASE_URL: options.databaseUrl ?? database?.url } : {}),
    ...options.env,
  } as NodeJS.ProcessEnv);
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line));
      done();
    },
  });
  const serviceLogger = createLogger({ level: 'info', destination: sink });
  const service = await createService(config, {
    role: options.role ?? 'all',
    logger: serviceLogger,
    inMemoryPglite: true,
  });
  const { url } = await service.start();
  const api = new Api(url);

  const login = await api.post<{ token: string }>('/admin/login', {
    email: ADMIN_EMAIL,
    password: ADMIN_PASSWORD,
  });
  if (login.status !== 200) throw new Error(`admin login failed: ${login.text}`);
  const token = await api.post<{ token: string }>(
    '/admin/tokens',
    { name: 'tests' },
    { key: login.body.token },
  );
  const adminToken = token.body.token;
  const admin = api.withKey(adminToken);
  const created = await admin.post<{ id: string; secret_key: string; publishable_key: string }>(
    '/admin/merchants',
    {
      name: 'Test merchant',
    },
  );
  if (created.status !== 200) throw new Error(`merchant creation failed: ${created.text}`);

  return {
    service,
    config,
    url,
    api,
    secretKey: created.body.secret_key,
    publishableKey: created.body.publishable_key,
    merchant: api.withKey(created.body.secret_key),
    merchantId: created.body.id,
    adminToken,
    admin,
    logs,
    database,
    async close() {
      await service.close();
      await database?.drop();
    },
  };
}

/** A second merchant on the same service, for tenancy tests. */
export async function createMerchant(t: TestService, name = 'Other merchant') {
  const created = await t.admin.post<{ id: string; secret_key: string; publishable_key: string }>(
    '/admin/merchants',
    {
      name,
    },
  );
  if (created.status !== 200) throw new Error(`merchant creation failed: ${created.text}`);
  return {
    id: created.body.id,
    secretKey: created.body.secret_key,
    publishableKey: created.body.publishable_key,
    api: t.api.withKey(created.body.secret_key),
  };
}
