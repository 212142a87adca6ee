import { type Insertable, type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import { inScope } from '../../db/scope.js';
import type { Scope } from '../../http/expand.js';
import type { FileInfo, FilesTable } from './files.table.js';

type Executor = Kysely<Database> | Transaction<Database>;

/** Every column but the bytes: lists and renders never read a file's contents. */
const INFO = [
  'id',
  'merchant_id',
  'livemode',
  'purpose',
  'filename',
  'type',
  'size',
  'sha256',
  'provider_files',
  'created_at',
] as const;

export async function insertFile(db: Executor, row: Insertable<FilesTable>): Promise<FileInfo> {
  return db.insertInto('files').values(row).returning(INFO).executeTakeFirstOrThrow();
}

/** Scoped by merchant and mode (invariant 8): another merchant's file is simply not found. */
export async function findFile(db: Executor, scope: Scope, id: string): Promise<FileInfo | undefined> {
  return db.selectFrom('files').select(INFO).where('id', '=', id).where(inScope(scope)).executeTakeFirst();
}

export async function findFiles(db: Executor, scope: Scope, ids: readonly string[]): Promise<FileInfo[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom('files')
    .select(INFO)
    .where('id', 'in', [...ids])
    .where(inScope(scope))
    .execute();
}

export async function fileContents(db: Executor, scope: Scope, id: string): Promise<Uint8Array | undefined> {
  const row = await db
    .selectFrom('files')
    .select('contents')
    .where('id', '=', id)
    .where(inScope(scope))
    .executeTakeFirst();
  return row?.contents;
}

export function filesQuery(db: Executor, scope: Scope, filters: { purpose?: string | undefined }) {
  let query = db.selectFrom('files').select(INFO).where(inScope(scope));
  if (filters.purpose !== undefined) query = query.where('purpose', '=', filters.purpose);
  return query;
}

/** Remembers a provider's id for its copy, merged so two providers' entries never overwrite each other. */
export async function recordProviderFile(db: Executor, id: string, provider: string, providerFileId: string) {
  await db
    .updateTable('files')
    .set({
      provider_files: sql`provider_files || jsonb_build_object(${provider}::text, ${providerFileId}::text)`,
    })
    .where('id', '=', id)
    .execute();
}
