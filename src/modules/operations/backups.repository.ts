import type { Insertable, Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { BackupRow, BackupsTable } from './backups.table.js';

type Executor = Kysely<Database> | Transaction<Database>;

export async function insertBackup(db: Executor, row: Insertable<BackupsTable>): Promise<BackupRow> {
  return db.insertInto('backups').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function latestBackup(db: Executor): Promise<BackupRow | undefined> {
  return db.selectFrom('backups').selectAll().orderBy('created_at', 'desc').limit(1).executeTakeFirst();
}

export async function listBackups(db: Executor, limit: number): Promise<BackupRow[]> {
  return db.selectFrom('backups').selectAll().orderBy('created_at', 'desc').limit(limit).execute();
}
