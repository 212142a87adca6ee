// Stripe's file object (../shared/stripe fixture `file`) and the rules of an upload: which purposes we
// take, which formats (read from the bytes themselves), how large, and the name we keep.
import { unixSeconds } from '../../clock.js';
import { invalidParam } from '../../http/errors.js';
import type { FileInfo } from './files.table.js';
import { fileTypeOf } from './formats.js';

export { mimeOf } from './formats.js';

/** Dispute evidence is what files are for here; Stripe's other purposes belong to products we lack. */
export const FILE_PURPOSES = ['dispute_evidence'] as const;
export type FilePurpose = (typeof FILE_PURPOSES)[number];

/** Stripe takes evidence files up to 5 MB each... */
export const FILE_MAX_BYTES = 5 * 1024 * 1024;
/** ...and at most 4.5 MB of files on one dispute in all. */
export const DISPUTE_FILES_MAX_BYTES = 4.5 * 1024 * 1024;

/** The file's format, or a 400 naming `file`. */
export function sniffType(bytes: Uint8Array): string {
  const type = fileTypeOf(bytes);
  if (!type) {
    throw invalidParam(
      'file',
      'The file must be a PDF, PNG or JPEG (read from its contents); convert other documents to PDF first.',
      'file_type_unsupported',
    );
  }
  return type;
}

/** The upload's own name without any path a browser or curl sent, control characters or excess length. */
export function cleanFilename(name: string | undefined, id: string, type: string): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  // Control characters and quotes would break the Content-Disposition header the download sends.
  const cleaned = [...base]
    .filter((char) => char.charCodeAt(0) >= 0x20 && char.charCodeAt(0) !== 0x7f && char !== '"')
    .join('')
    .trim()
    .slice(0, 200);
  return cleaned || `${id}.${type}`;
}

export function toFileObject(file: FileInfo, publicUrl: string) {
  return {
    id: file.id,
    object: 'file' as const,
    created: unixSeconds(file.created_at),
    expires_at: null,
    filename: file.filename,
    links: {
      object: 'list' as const,
      data: [] as never[],
      has_more: false,
      url: `/v1/file_links?file=${file.id}`,
    },
    purpose: file.purpose,
    size: file.size,
    title: null,
    type: file.type,
    url: `${publicUrl}/v1/files/${file.id}/contents`,
  };
}
export type FileObject = ReturnType<typeof toFileObject>;
