import { type Kysely, sql } from 'kysely';

// The record of every `payctl backup` (issue 8, runbook 003's backup strategy): where the file went, its
// size and SHA-256, and when, so that `payctl preflight` can tell whether backups are recent. The row is
// written after the dump, so a backup never contains its own record.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table backups (
      id text primary key,
      created_at timestamptz not null,
      database_kind text not null check (database_kind in ('pglite', 'postgres')),
      format text not null check (format in ('pg_dump_custom', 'pglite_datadir_tgz')),
      file text not null,
      size_bytes bigint not null check (size_bytes >= 0),
      sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
      created_by text
    );
    create index backups_created on backups (created_at desc);
  `.execute(db);
}
