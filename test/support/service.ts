// Starts the whole service in this process, listening on a free loopback port, on the database the
// project under test names (TEST_DB=pglite: in-memory PGlite; TEST_DB=postgres: a fresh database).
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { inject } from 'vitest';
import { AdjustableClock } from '../../src/clock.js';
import { type Config, loadConfig } from '../../src/config.js';
import { createService, type Role, type Service } from '../../src/main.js';
import { createLogger } from '../../src/observability/logger.js';
import { Api } from './http.js';
import { TEST_LIMITS } from './limits.js';
import { type Authenticator, loginWithMfa } from './mfa.js';
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
  /** The bootstrap admin's TOTP authenticator (enrolled at start: admins must have one). */
  adminTotp: Authenticator;
  /** A fresh session of the bootstrap admin, logged in with a TOTP code. */
  adminSession(): Promise<Api>;
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

let template: Blob | undefined;
/** The run's migrated PGlite template (test/support/global-setup.ts), read once per worker. */
function migratedTemplate(): Blob | undefined {
  if (template) return template;
  const file = path.join(inject('distDir'), 'pglite-migrated.tar.gz');
  if (!existsSync(file)) return undefined;
  template = new Blob([readFileSync(file)]);
  return template;
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
    pgliteTemplate: migratedTemplate(),
  });
  const { url } = await service.start();
  const api = new Api(url);

  const now = () => service.clock.now().getTime();
  const databaseKey = options.databaseUrl ?? database?.url;
  const { device: adminTotp, token: adminToken } = await bootstrapAdmin(api, databaseKey, now);
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
    adminTotp,
    async adminSession() {
      // A third login within 30 seconds has no unused code left: move the test clock to the next step.
      if (!adminTotp.hasCodeAt(now()) && service.clock instanceof AdjustableClock)
        service.clock.advance(30_000);
      const session = await loginWithMfa(api, ADMIN_CREDENTIALS, adminTotp, now);
      return api.withKey(session.token);
    },
    logs,
    database,
    async close() {
      await service.close();
      await database?.drop();
    },
  };
}

const ADMIN_CREDENTIALS = { email: ADMIN_EMAIL, password: ADMIN_PASSWORD };
/**
 * The bootstrap admin's authenticator and API token per PostgreSQL database: a second service on the
 * same database (even several started at once) reuses the first one's instead of logging in again.
 */
const bootstrapAdmins = new Map<string, Promise<{ device: Authenticator; token: string }>>();

function bootstrapAdmin(api: Api, databaseKey: string | undefined, now: () => number) {
  const known = databaseKey ? bootstrapAdmins.get(databaseKey) : undefined;
  if (known) return known;
  const created = (async () => {
    const login = await loginWithMfa(api, ADMIN_CREDENTIALS, undefined, now);
    const token = await api.post<{ token: string }>('/admin/tokens', { name: 'tests' }, { key: login.token });
    if (token.status !== 200 || !login.device) throw new Error(`admin token failed: ${token.text}`);
    return { device: login.device, token: token.body.token };
  })();
  if (databaseKey) bootstrapAdmins.set(databaseKey, created);
  return created;
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
