// Disputes for operators: the list across merchants (`payment:read`) and evidence on a merchant's
// behalf (`payment:write`, audited).
import { text } from '../../http/params.js';
import { originOf, type Router } from '../../http/route.js';
import { readUpload } from '../files/upload.js';
import {
  type OperatorDisputes,
  operatorDisputeListFields,
  operatorEvidenceFields,
} from './operator-disputes.service.js';

export function registerOperatorDisputeRoutes(router: Router, disputes: OperatorDisputes): void {
  const tags = ['Disputes'];
  router.operator({
    method: 'GET',
    url: '/admin/disputes',
    summary:
      'Disputes across merchants, newest first, with evidence_details.due_by: status, livemode, due_before (Unix seconds)',
    tags,
    permission: 'payment:read',
    input: operatorDisputeListFields,
    handler: ({ input }) => disputes.list(input),
  });
  router.operator({
    method: 'POST',
    url: '/admin/disputes/:id/evidence',
    summary:
      "Save or submit (submit, default true) a dispute's evidence on its merchant's behalf, forwarded to the provider; audited",
    tags,
    permission: 'payment:write',
    params: { id: text(255) },
    input: operatorEvidenceFields,
    handler: ({ params, input, operator, info }) =>
      disputes.submitEvidence(
        params.id,
        input,
        { type: 'operator', id: operator.operatorId },
        originOf(info),
      ),
  });
  router.operator({
    method: 'POST',
    url: '/admin/disputes/:id/files',
    summary:
      "Upload an evidence file (multipart/form-data `file`: PDF, PNG or JPEG up to 5 MB) under the dispute's merchant, to name in its file evidence fields; audited",
    tags,
    permission: 'payment:write',
    params: { id: text(255) },
    multipart: true,
    handler: async ({ params, request, operator, info }) => {
      const upload = await readUpload(request, []);
      return disputes.uploadEvidenceFile(
        params.id,
        { purpose: 'dispute_evidence', filename: upload.filename, bytes: upload.bytes },
        { type: 'operator', id: operator.operatorId },
        originOf(info),
      );
    },
  });
}
