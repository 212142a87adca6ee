// HTTP surface of files: Stripe's /v1/files (upload, retrieve, list) and the contents download. Operators
// upload evidence through /admin/disputes/:id/files (operator-disputes.routes.ts).
import { z } from 'zod';
import { listParams } from '../../http/pagination.js';
import { text } from '../../http/params.js';
import type { Router } from '../../http/route.js';
import { FILE_PURPOSES, mimeOf } from './files.js';
import type { FilesService } from './files.service.js';
import { readUpload, uploadPurpose } from './upload.js';

const byId = { id: text(255) };
const purposeParam = z.enum(FILE_PURPOSES, { message: `must be one of ${FILE_PURPOSES.join(', ')}` });

export function registerFileRoutes(router: Router, files: FilesService): void {
  const tags = ['Files'];
  router.merchant({
    method: 'POST',
    url: '/v1/files',
    summary:
      'Upload a file (multipart/form-data: `file`, a PDF, PNG or JPEG up to 5 MB, and `purpose`=dispute_evidence)',
    tags,
    auth: 'secret',
    scope: 'files:write',
    multipart: true,
    // Read from the multipart body by readUpload; declared here for the OpenAPI document, and so that a
    // plain form naming a purpose hears that the file is missing rather than that purpose is unknown.
    input: { purpose: purposeParam.optional() },
    handler: async ({ merchant, request }) => {
      const upload = await readUpload(request, ['purpose']);
      return files.create(merchant, {
        purpose: uploadPurpose(upload.fields),
        filename: upload.filename,
        bytes: upload.bytes,
      });
    },
  });
  router.merchant({
    method: 'GET',
    url: '/v1/files/:id',
    summary: 'Retrieve a file object',
    tags,
    auth: 'secret',
    scope: 'files:read',
    params: byId,
    handler: ({ merchant, params }) => files.retrieve(merchant, params.id),
  });
  router.merchant({
    method: 'GET',
    url: '/v1/files/:id/contents',
    summary: "Download a file's contents",
    tags,
    auth: 'secret',
    scope: 'files:read',
    params: byId,
    handler: async ({ merchant, params, reply }) => {
      const { file, contents } = await files.contents(merchant, params.id);
      reply.type(mimeOf(file.type));
      reply.header('Content-Disposition', `attachment; filename="${file.filename}"`);
      return Buffer.from(contents);
    },
  });
  router.merchant({
    method: 'GET',
    url: '/v1/files',
    summary: 'List files, newest first',
    tags,
    auth: 'secret',
    scope: 'files:read',
    input: {
      ...listParams,
      purpose: purposeParam.optional(),
    },
    handler: ({ merchant, input }) => files.list(merchant, input),
  });
}
