// `payctl restore <backup> --verify`: restores a backup into a scratch copy, checks it (backup-checks.ts)
// and drops the copy. A pg_dump file goes into a new database on DATABASE_URL's server (pg_restore), a
// PGlite dump into a new PGlite in a temporary directory; the live database is never touched.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { PgliteDialect } from '../../db/pglite-dialect.js';
import type { Database } from '../../db/schema.js';
import { sharedParsers } from '../../db/value-types.js';
import { sha256OfFile } from './backup.service.js';
import { type BackupCheck, checkRestoredDatabase } from './backup-checks.js';
import type { BackupFormat } from './backups.table.js';
import { BackupError, databaseUrlFor, runPgTool } from './pg-tools.js';

const gunzipAsync = promisify(gunzip);

export interface BackupVerification {
  object: 'backup_verification';
  ok: boolean;
  file: string;
  format: BackupFormat;
  size_bytes: number;
  sha256: string;
  /** Where it was restored: a database name or a directory, dropped afterwards. */
  scratch: string;
  checks: BackupCheck[];
  row_counts: Record<string, number>;
}

/** The format from the file's first bytes: pg_dump's custom format starts with PGDMP, a gzip with 1f 8b. */
async function formatOf(file: string): Promise<BackupFormat> {
  const handle = await fs.open(file, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new BackupError(`<backup>: cannot read ${file} (${error.code ?? error.message})`);
  });
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(5), 0, 5, 0);
    if (bytesRead === 5 && buffer.toString('latin1') === 'PGDMP') return 'pg_dump_custom';
    if (bytesRead >= 2 && buffer[0] === 0x1f && buffer[1] === 0x8b) return 'pglite_datadir_tgz';
  } finally {
    await handle.close();
  }
  throw new BackupError(
    `<backup>: ${file} is neither a pg_dump custom-format file nor a PGlite data directory dump`,
  );
}

async function verifyOnPostgres(file: string, serverUrl: string | undefined) {
  if (!serverUrl) {
    throw new BackupError(
      'a pg_dump backup is verified in a scratch database: set DATABASE_URL to a PostgreSQL server where payctl may create one',
    );
  }
  const scratch = `payctl_verify_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${scratch}`);
    try {
      await runPgTool('pg_restore', databaseUrlFor(serverUrl, scratch), [
        '--no-owner',
        '--no-privileges',
        '--exit-on-error',
        '--no-password',
        file,
      ]);
      const pool = new pg.Pool({
        connectionString: databaseUrlFor(serverUrl, scratch),
        max: 1,
        types: {
          getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
            sharedParsers[oid] ?? pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
        },
      });
      // DROP DATABASE ... WITH (FORCE) ends connections still closing; that is no error here.
      pool.on('error', () => {});
      const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
      try {
        return { scratch, ...(await checkRestoredDatabase(db)) };
      } finally {
        await db.destroy();
      }
    } finally {
      await admin.query(`drop database if exists ${scratch} with (force)`);
    }
  } finally {
    await admin.end();
  }
}

async function verifyOnPglite(file: string) {
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'payctl-verify-'));
  try {
    // Unzipped here, and PGlite given the plain tar: its own gunzip runs on a stream whose error it does
    // not pass back (a truncated file ended the process with zlib's stack trace).
    const tar = await gunzipAsync(await fs.readFile(file)).catch((error: Error) => {
      throw new BackupError(`the PGlite dump does not load: ${error.message}`);
    });
    const pglite = await PGlite.create(path.join(scratch, 'pgdata'), {
      parsers: sharedParsers,
      loadDataDir: new Blob([tar]),
    }).catch((error: Error) => {
      throw new BackupError(`the PGlite dump does not load: ${error.message}`);
    });
    const db = new Kysely<Database>({ dialect: new PgliteDialect(pglite) });
    try {
      return { scratch, ...(await checkRestoredDatabase(db)) };
    } finally {
      await db.destroy();
    }
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

/** Restores `file` into a scratch copy, checks it, drops the copy. `serverUrl`: where a pg_dump is restored. */
export async function verifyBackup(file: string, serverUrl: string | undefined): Promise<BackupVerification> {
  const resolved = path.resolve(file);
  const format = await formatOf(resolved);
  const restored =
    format === 'pg_dump_custom'
      ? await verifyOnPostgres(resolved, serverUrl)
      : await verifyOnPglite(resolved);
  return {
    object: 'backup_verification',
    ok: restored.checks.every((check) => check.status !== 'fail'),
    file: resolved,
    format,
    size_bytes: (await fs.stat(resolved)).size,
    sha256: await sha256OfFile(resolved),
    ...restored,
  };
}
