import type { ColumnType, Selectable } from 'kysely';

export type BackupFormat = 'pg_dump_custom' | 'pglite_datadir_tgz';

/** One backup payctl made: the file, its size and checksum, and when (for preflight's "backups recent"). */
export interface BackupsTable {
  id: string;
  created_at: ColumnType<Date, Date, never>;
  database_kind: 'pglite' | 'postgres';
  format: BackupFormat;
  file: string;
  size_bytes: number;
  sha256: string;
  created_by: string | null;
}

export type BackupRow = Selectable<BackupsTable>;
