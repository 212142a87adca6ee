// Reads a multipart/form-data upload (Stripe's `file` and `purpose` parts) once the caller is
// authenticated: the bytes are read only for a caller allowed to send them, and only up to the limit.
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError, invalidParam, missingParam, unknownParam } from '../../http/errors.js';
import { parseOrThrow } from '../../http/validation.js';
import { FILE_MAX_BYTES, FILE_PURPOSES, type FilePurpose } from './files.js';

export interface ReadUpload {
  fields: Record<string, string>;
  filename: string | undefined;
  bytes: Uint8Array;
}

const purposeField = z.strictObject({
  purpose: z.enum(FILE_PURPOSES, { message: `must be one of ${FILE_PURPOSES.join(', ')}` }),
});

/** `file` plus the text fields named in `allowed`; anything else is refused by name. */
export async function readUpload(request: FastifyRequest, allowed: readonly string[]): Promise<ReadUpload> {
  if (!request.isMultipart()) {
    throw invalidParam(
      'file',
      'Send the upload as multipart/form-data with a `file` part (curl -F file=@receipt.pdf -F purpose=dispute_evidence).',
    );
  }
  const fields: Record<string, string> = {};
  let upload: { filename: string; bytes: Buffer } | undefined;
  try {
    const parts = request.parts({ limits: { fileSize: FILE_MAX_BYTES, files: 1, fields: 20, parts: 21 } });
    for await (const part of parts) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file') throw unknownParam(part.fieldname);
        upload = { filename: part.filename, bytes: await part.toBuffer() };
      } else {
        if (!allowed.includes(part.fieldname)) throw unknownParam(part.fieldname);
        fields[part.fieldname] = String(part.value);
      }
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw uploadError(error);
  }
  if (!upload) throw missingParam('file');
  if (upload.bytes.byteLength === 0) throw invalidParam('file', 'The file is empty.');
  return { fields, filename: upload.filename, bytes: upload.bytes };
}

/** The limits' and the parser's own errors, as a 400 naming `file` rather than a bare 413 or a 500. */
function uploadError(error: unknown): AppError {
  const code = (error as { code?: string }).code;
  if (code === 'FST_REQ_FILE_TOO_LARGE') {
    return invalidParam(
      'file',
      `The file is larger than ${FILE_MAX_BYTES / 1024 / 1024} MB, the most a provider accepts as evidence.`,
      'file_too_large',
    );
  }
  if (code === 'FST_FILES_LIMIT') return invalidParam('file', 'Send one file per upload.');
  const status = (error as { statusCode?: number }).statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return invalidParam('file', `The multipart body could not be read: ${(error as Error).message}`);
  }
  return invalidParam('file', 'The multipart body could not be read (was it cut short?).');
}

export function uploadPurpose(fields: Record<string, string>): FilePurpose {
  if (fields['purpose'] === undefined) throw missingParam('purpose');
  return parseOrThrow(purposeField, { purpose: fields['purpose'] }).purpose;
}
