// Owns `payctl backup` (runbook 003's full backup): PostgreSQL through pg_dump in custom format (what
// `pg_restore` reads), PGlite as PGlite's own gzipped tar of its data directory (dumpDataDir, which the
// process holding the DATA_DIR lock alone can take). The file is written under a `.partial` name and
// renamed when complete, then recorded (file, size, SHA-256, time) for preflight's "backups recent".
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Clock } from '../../clock.js';
import { unixSeconds } from '../../clock.js';
import type { DatabaseHandle } from '../../db/connect.js';
import { newId } from '../../ids.js';
import { insertBackup, latestBackup, listBackups } from './backups.repository.js';
import type { BackupFormat, BackupRow } from './backups.table.js';
import { BackupError, runPgTool } from './pg-tools.js';

export interface BackupObject {
  id: string;
  object: 'backup';
  created: number;
  database: 'pglite' | 'postgres';
  format: BackupFormat;
  file: string;
  size_bytes: number;
  sha256: string;
  created_by: string | null;
}

export function toBackupObject(row: BackupRow): BackupObject {
  return {
    id: row.id,
    object: 'backup',
    created: unixSeconds(row.created_at),
    database: row.database_kind,
    format: row.format,
    file: row.file,
    size_bytes: row.size_bytes,
    sha256: row.sha256,
    created_by: row.created_by,
  };
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** `payment_db_20240101_143000.dump` (runbook 003's name, with the time so that two a day do not clash). */
function defaultName(now: Date, format: BackupFormat): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
  return `payment_db_${stamp}${format === 'pg_dump_custom' ? '.dump' : '.tar.gz'}`;
}

async function isDirectory(target: string): Promise<boolean> {
  return (await fs.stat(target).catch(() => undefined))?.isDirectory() ?? false;
}

export interface BackupDeps {
  database: DatabaseHandle;
  databaseUrl: string | undefined;
  clock: Clock;
}

export class BackupService {
  constructor(private readonly deps: BackupDeps) {}

  /**
   * Dumps the database to `out`: a file, or a directory (existing, or named with a trailing slash) for the
   * default name; the working directory without it.
   */
  async backup(out: string | undefined, createdBy: string | null): Promise<BackupObject> {
    const { database, clock } = this.deps;
    const format: BackupFormat = database.kind === 'postgres' ? 'pg_dump_custom' : 'pglite_datadir_tgz';
    const now = clock.now();
    const target = path.resolve(
      out === undefined || out.endsWith('/') || (await isDirectory(out))
        ? path.join(out ?? '.', defaultName(now, format))
        : out,
    );
    if (await fs.stat(target).catch(() => undefined)) {
      throw new BackupError(`--out: ${target} exists; payctl never overwrites a backup`);
    }
    await fs.mkdir(path.dirname(target), { recursive: true });
    const partial = `${target}.partial`;
    try {
      await this.dumpTo(partial);
      await fs.rename(partial, target);
    } finally {
      await fs.rm(partial, { force: true });
    }
    const { size } = await fs.stat(target);
    const row = await insertBackup(database.db, {
      id: newId('bkp'),
      created_at: now,
      database_kind: database.kind,
      format,
      file: target,
      size_bytes: size,
      sha256: await sha256OfFile(target),
      created_by: createdBy,
    });
    return toBackupObject(row);
  }

  private async dumpTo(file: string): Promise<void> {
    const { database, databaseUrl } = this.deps;
    if (database.kind === 'postgres') {
      if (!databaseUrl) throw new BackupError('DATABASE_URL is required for a PostgreSQL backup');
      await runPgTool('pg_dump', databaseUrl, ['--format=custom', `--file=${file}`, '--no-password']);
      return;
    }
    if (!database.dumpDataDir) throw new BackupError('this PGlite database cannot be dumped');
    const blob = await database.dumpDataDir();
    await fs.writeFile(file, Buffer.from(await blob.arrayBuffer()));
  }

  async latest(): Promise<BackupObject | undefined> {
    const row = await latestBackup(this.deps.database.db);
    return row ? toBackupObject(row) : undefined;
  }

  async list(limit: number): Promise<BackupObject[]> {
    return (await listBackups(this.deps.database.db, limit)).map(toBackupObject);
  }
}
