import type { ColumnType, Selectable } from 'kysely';

type Json<T> = ColumnType<T, string, string>;

/** Where a provider keeps its own copy of a file: `{ stripe: 'file_...' }`, one entry per provider and mode. */
export type ProviderFiles = Record<string, string>;

export interface FilesTable {
  id: string;
  merchant_id: string;
  livemode: boolean;
  purpose: string;
  filename: string;
  /** pdf, png or jpg: read from the bytes, not from the name or the part's content type. */
  type: string;
  size: number;
  sha256: string;
  contents: ColumnType<Uint8Array, Uint8Array, never>;
  provider_files: Json<ProviderFiles>;
  created_at: ColumnType<Date, Date, never>;
}

export type FileRow = Selectable<FilesTable>;
/** A file's row without its bytes: what listing and rendering need. */
export type FileInfo = Omit<FileRow, 'contents'>;
