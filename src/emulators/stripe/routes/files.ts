// Owns /v1/files: Stripe's file upload (multipart/form-data `file` and `purpose`, parsed by the server's
// multipart parser into an UploadedFile) and retrieval. Dispute evidence names these ids.
import { invalidRequest } from '../errors.js';
import type { ApiRoute } from '../http.js';
import { LIST_PARAMS, listPage } from '../listing.js';
import { Params } from '../params.js';
import type { FileRecord } from '../records.js';
import type { StripeStore } from '../store.js';

/** What the multipart parser leaves for the `file` part: its name and a digest, not the bytes. */
export interface UploadedFile {
  kind: 'uploaded_file';
  filename: string;
  size: number;
  /** pdf, png or jpg; undefined when the bytes are none of them. */
  type: string | undefined;
  sha256: string;
}

const PURPOSES = ['dispute_evidence', 'identity_document', 'additional_verification', 'business_logo'];
const MAX_BYTES = 5 * 1024 * 1024;

const isUpload = (value: unknown): value is UploadedFile =>
  typeof value === 'object' && value !== null && (value as UploadedFile).kind === 'uploaded_file';

export function fileRoutes(store: StripeStore): ApiRoute[] {
  return [
    {
      method: 'POST',
      url: '/v1/files',
      handle(input) {
        const params = new Params(input.params, ['file', 'purpose', 'file_link_data']);
        const purpose = params.string('purpose');
        if (!purpose)
          throw invalidRequest('Missing required param: purpose.', 'parameter_missing', 'purpose');
        if (!PURPOSES.includes(purpose)) {
          throw invalidRequest(
            `Invalid purpose: must be one of ${PURPOSES.join(', ')}`,
            'parameter_invalid',
            'purpose',
          );
        }
        const file = input.params['file'];
        if (!isUpload(file)) {
          throw invalidRequest(
            'Missing required param: file (send multipart/form-data).',
            'parameter_missing',
            'file',
          );
        }
        if (!file.type) {
          throw invalidRequest(
            'The file you uploaded is not a supported type: dispute evidence must be a PDF, JPEG or PNG.',
            'file_type_unsupported',
            'file',
          );
        }
        if (file.size > MAX_BYTES) {
          throw invalidRequest('The file is larger than 5 MB.', 'file_too_large', 'file');
        }
        const record: FileRecord = {
          object: 'file',
          id: store.newId('file'),
          account: input.ctx.account,
          created: input.ctx.now,
          purpose,
          filename: file.filename,
          size: file.size,
          type: file.type,
          sha256: file.sha256,
        };
        return { record: store.insert(record) };
      },
    },
    {
      method: 'GET',
      url: '/v1/files/:file',
      handle(input) {
        new Params(input.params, []);
        return { record: store.owned('file', input.ctx.account, input.path['file']!, 'file') };
      },
    },
    {
      method: 'GET',
      url: '/v1/files',
      handle(input) {
        const params = new Params(input.params, [...LIST_PARAMS, 'purpose']);
        const purpose = params.string('purpose');
        return {
          list: listPage(store, 'file', input.ctx.account, params, '/v1/files', {
            filter: purpose ? (file) => file.purpose === purpose : undefined,
          }),
        };
      },
    },
  ];
}
