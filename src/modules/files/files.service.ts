// Files (Stripe's /v1/files): uploads kept in the database, listed and downloaded by their merchant, and
// handed to the disputes module as evidence, with each provider's id for the copy it was sent.
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { resourceMissing } from '../../http/errors.js';
import type { Scope } from '../../http/expand.js';
import { type ListParams, listObject, paginate } from '../../http/pagination.js';
import { newId } from '../../ids.js';
import { cleanFilename, type FileObject, type FilePurpose, sniffType, toFileObject } from './files.js';
import {
  fileContents,
  filesQuery,
  findFile,
  findFiles,
  insertFile,
  recordProviderFile,
} from './files.repository.js';
import type { FileInfo } from './files.table.js';

export interface Upload {
  purpose: FilePurpose;
  filename: string | undefined;
  bytes: Uint8Array;
}

/** A file as a provider receives it. */
export interface FileForProvider {
  id: string;
  filename: string;
  type: string;
  contents: Uint8Array;
}

export class FilesService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly publicUrl: string,
  ) {}

  async create(scope: Scope, upload: Upload): Promise<FileObject> {
    const type = sniffType(upload.bytes);
    const id = newId('file');
    const row = await insertFile(this.db, {
      id,
      merchant_id: scope.merchantId,
      livemode: scope.livemode,
      purpose: upload.purpose,
      filename: cleanFilename(upload.filename, id, type),
      type,
      size: upload.bytes.byteLength,
      sha256: createHash('sha256').update(upload.bytes).digest('hex'),
      contents: upload.bytes,
      provider_files: '{}',
      created_at: this.clock.now(),
    });
    return toFileObject(row, this.publicUrl);
  }

  async retrieve(scope: Scope, id: string): Promise<FileObject> {
    return toFileObject(await this.info(scope, id), this.publicUrl);
  }

  async contents(scope: Scope, id: string): Promise<{ file: FileInfo; contents: Uint8Array }> {
    const file = await this.info(scope, id);
    const contents = await fileContents(this.db, scope, id);
    if (!contents) throw resourceMissing('file', id, 'id');
    return { file, contents };
  }

  async list(scope: Scope, params: ListParams & { purpose?: string | undefined }) {
    const page = await paginate(
      filesQuery(this.db, scope, { purpose: params.purpose }),
      params,
      async (id) => (await findFile(this.db, scope, id))?.created_at,
    );
    return listObject(
      '/v1/files',
      page.rows.map((row) => toFileObject(row, this.publicUrl)),
      page.hasMore,
    );
  }

  /** The merchant's files among `ids` (others' and unknown ids are absent from the answer). */
  found(scope: Scope, ids: readonly string[]): Promise<FileInfo[]> {
    return findFiles(this.db, scope, ids);
  }

  async forProvider(scope: Scope, file: FileInfo): Promise<FileForProvider> {
    const contents = await fileContents(this.db, scope, file.id);
    if (!contents) throw resourceMissing('file', file.id, 'id');
    return { id: file.id, filename: file.filename, type: file.type, contents };
  }

  recordProviderCopy(id: string, provider: string, providerFileId: string): Promise<void> {
    return recordProviderFile(this.db, id, provider, providerFileId);
  }

  private async info(scope: Scope, id: string): Promise<FileInfo> {
    const file = await findFile(this.db, scope, id);
    if (!file) throw resourceMissing('file', id, 'id');
    return file;
  }
}
