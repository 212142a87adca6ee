// Owns database connections: a node-postgres pool when DATABASE_URL is set, otherwise PGlite in
// DATA_DIR (locked so that a second process fails with a clear message). Both return identical types.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import {
  Kysely,
  type KyselyConfig,
  PostgresDialect,
  type PostgresPool,
  type PostgresPoolClient,
} from 'kysely';
import pg from 'pg';
import lockfile from 'proper-lockfile';
import type { Logger } from '../observability/logger.js';
import { PgliteDialect } from './pglite-dialect.js';
import type { Database } from './schema.js';
import { sharedParsers } from './value-types.js';

export type DatabaseKind = 'pglite' | 'postgres';

export interface PoolUsage {
  size: number;
  inUse: number;
  waiting: number;
}

export interface DatabaseHandle {
  kind: DatabaseKind;
  db: Kysely<Database>;
  /** Reads that tolerate replica lag (reports); never money decisions or read-after-write. */
  readDb: Kysely<Database>;
  poolUsage(): PoolUsage;
  /** PGlite only: a gzipped tar of the data directory, consistent (PGlite is one process). */
  dumpDataDir?: () => Promise<Blob>;
  close(): Promise<void>;
}

/** Told of every statement after it ran (tracing); never given parameter values. */
export type QueryObserver = (sqlText: string, durationMs: number, error?: unknown) => void;

function kyselyLog(onQuery: QueryObserver | undefined): KyselyConfig['log'] {
  if (!onQuery) return undefined;
  return (event) =>
    onQuery(event.query.sql, event.queryDurationMillis, event.level === 'error' ? event.error : undefined);
}

export interface PostgresOptions {
  url: string;
  readReplicaUrl?: string | undefined;
  poolSize: number;
  poolTimeoutMs: number;
  logger: Logger;
  onQuery?: QueryObserver | undefined;
}

function createPool(url: string, options: PostgresOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize,
    connectionTimeoutMillis: options.poolTimeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: 'payment-service',
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        sharedParsers[oid] ?? pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle connection killed by pg_terminate_backend or a server restart must not crash the process:
  // the pool drops it and opens a new one on the next checkout.
  pool.on('error', (error) => options.logger.warn({ err: error }, 'idle database connection lost'));
  pool.on('connect', (client) => {
    client.on('error', (error) => options.logger.warn({ err: error }, 'database connection lost'));
  });
  return pool;
}

/**
 * Statements with parameters run as named prepared statements: PostgreSQL parses and plans each text
 * once per connection instead of on every execution (pgbench's `-M prepared`), and the client sends
 * Bind/Execute without the statement text. A payment's twenty statements are a handful of texts;
 * texts that vary (IN lists of a batch's length) are bounded by the batch size, and past
 * MAX_PREPARED distinct texts in this process the rest run unnamed, so a server backend never keeps
 * an unbounded set.
 */
const MAX_PREPARED = 2000;
const preparedNames = new Map<string, string>();
function preparedName(text: string): string | undefined {
  let name = preparedNames.get(text);
  if (name === undefined && preparedNames.size < MAX_PREPARED) {
    name = `s${createHash('sha1').update(text).digest('base64url').slice(0, 20)}`;
    preparedNames.set(text, name);
  }
  return name;
}

/**
 * "cached plan must not change result type": a migration changed a table that a prepared `select *`
 * or `returning *` reads (a rolling deploy). The statement fails once; its connection is closed on
 * release, so the next one prepares against the new schema.
 */
const CACHED_PLAN_CHANGED = '0A000';

export const ABORTED_COMMIT_MESSAGE =
  'the transaction was rolled back by the database (an earlier statement failed)';

/**
 * PostgreSQL answers COMMIT of a transaction that a failed statement aborted with ROLLBACK and no
 * error, so a caller that caught the failure would believe its writes were saved. PGlite's dialect
 * throws in that case; this pool makes node-postgres throw too, so both drivers behave alike.
 */
function strictCommitPool(pool: pg.Pool): PostgresPool {
  // One wrapper per pg client: Kysely keys its per-connection state on the client object.
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  // Connections whose prepared statements a schema change invalidated: closed when released.
  const stale = new WeakSet<pg.PoolClient>();
  const wrap = (client: pg.PoolClient): PostgresPoolClient => ({
    query: ((statement: unknown, parameters?: unknown[]) => {
      if (typeof statement !== 'string') return client.query(statement as pg.Submittable);
      const name = parameters?.length ? preparedName(statement) : undefined;
      const sent = name
        ? client.query({ name, text: statement, values: parameters })
        : client.query(statement, parameters);
      const result = name
        ? sent.catch((error: unknown) => {
            if ((error as { code?: unknown }).code === CACHED_PLAN_CHANGED) stale.add(client);
            throw error;
          })
        : sent;
      if (statement !== 'commit') return result;
      return result.then((outcome) => {
        if (outcome.command === 'ROLLBACK') throw new Error(ABORTED_COMMIT_MESSAGE);
        return outcome;
      });
    }) as PostgresPoolClient['query'],
    release: () => client.release(stale.has(client)),
  });
  return {
    async connect() {
      const client = await pool.connect();
      let wrapper = wrappers.get(client);
      if (!wrapper) {
        wrapper = wrap(client);
        wrappers.set(client, wrapper);
      }
      return wrapper;
    },
    end: () => pool.end(),
  };
}

export function connectPostgres(options: PostgresOptions): DatabaseHandle {
  const pool = createPool(options.url, options);
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: strictCommitPool(pool) }),
    log: kyselyLog(options.onQuery),
  });
  const replicaPool = options.readReplicaUrl ? createPool(options.readReplicaUrl, options) : undefined;
  const readDb = replicaPool
    ? new Kysely<Database>({ dialect: new PostgresDialect({ pool: strictCommitPool(replicaPool) }) })
    : db;
  return {
    kind: 'postgres',
    db,
    readDb,
    poolUsage: () => ({
      size: options.poolSize,
      inUse: pool.totalCount - pool.idleCount,
      waiting: pool.waitingCount,
    }),
    async close() {
      await db.destroy();
      if (replicaPool) await readDb.destroy();
    },
  };
}

export class DataDirLockedError extends Error {
  constructor(dataDir: string) {
    super(
      `DATA_DIR ${dataDir} is in use by another payment-service process. ` +
        'Stop it first, or reach the running service with payctl --url (PAYCTL_URL).',
    );
    this.name = 'DataDirLockedError';
  }
}

/** Made by `npm run build` (scripts/pglite-template.mjs); absent when running from source. */
const TEMPLATE = new URL('../../pglite-template.tar.gz', import.meta.url);

/**
 * A first start loads the build's freshly initialised data directory instead of running PGlite's own
 * initdb (about 1.4 s instead of 5 s); an existing data directory is opened as it is.
 */
function initialDataDir(pgDir: string): { loadDataDir?: Blob } {
  if (fs.existsSync(path.join(pgDir, 'PG_VERSION')) || !fs.existsSync(TEMPLATE)) return {};
  return { loadDataDir: new Blob([fs.readFileSync(TEMPLATE)]) };
}

/**
 * Opens PGlite. `dataDir` undefined means in memory (tests), started from `memoryTemplate` when given;
 * otherwise the folder is locked.
 */
export async function connectPglite(
  dataDir: string | undefined,
  onQuery?: QueryObserver,
  memoryTemplate?: Blob,
): Promise<DatabaseHandle> {
  let unlock: (() => Promise<void>) | undefined;
  let pgDir: string | undefined;
  if (dataDir !== undefined) {
    fs.mkdirSync(dataDir, { recursive: true });
    try {
      unlock = await lockfile.lock(dataDir, {
        lockfilePath: path.join(dataDir, 'service.lock'),
        stale: 10_000,
        update: 2_000,
        // A lock we cannot keep refreshed means another process may take over: stop rather than share.
        onCompromised: (error) => {
          console.error(`DATA_DIR lock lost: ${error.message}`);
          process.exit(1);
        },
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ELOCKED') throw new DataDirLockedError(dataDir);
      throw error;
    }
    pgDir = path.join(dataDir, 'pgdata');
  }
  const pglite = await PGlite.create(pgDir ?? 'memory://', {
    parsers: sharedParsers,
    ...(pgDir ? initialDataDir(pgDir) : memoryTemplate ? { loadDataDir: memoryTemplate } : {}),
  });
  const db = new Kysely<Database>({ dialect: new PgliteDialect(pglite), log: kyselyLog(onQuery) });
  return {
    kind: 'pglite',
    db,
    readDb: db,
    poolUsage: () => ({ size: 1, inUse: pglite.isInTransaction() ? 1 : 0, waiting: 0 }),
    dumpDataDir: () => pglite.dumpDataDir('gzip'),
    async close() {
      await db.destroy();
      await unlock?.();
    },
  };
}
