// Disputes for operators (the dashboard's disputes screen): the list across merchants with the evidence
// deadlines, and evidence saved or submitted on a merchant's behalf through the merchant API's own
// DisputesService.update (the same schema, rules and provider call), audited as the operator's action.
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { invalidParam, resourceMissing } from '../../http/errors.js';
import { listParams } from '../../http/pagination.js';
import { boolean, integer } from '../../http/params.js';
import type { AuditActor, AuditOrigin } from '../audit/audit.js';
import type { AuditService } from '../audit/audit.service.js';
import { auditedAction } from '../audit/audited-action.js';
import type { FilesService, Upload } from '../files/files.service.js';
import { evidenceSchema, renderDispute } from './dispute-object.js';
import { findDisputeById, operatorDisputes } from './disputes.repository.js';
import type { DisputesService } from './disputes.service.js';
import type { DisputeStatus } from './disputes.table.js';

const STATUSES = [
  'warning_needs_response',
  'warning_under_review',
  'warning_closed',
  'needs_response',
  'under_review',
  'won',
  'lost',
] as const satisfies readonly DisputeStatus[];

export const operatorDisputeListFields = {
  status: z.enum(STATUSES, { message: `must be one of ${STATUSES.join(', ')}` }).optional(),
  livemode: boolean().optional(),
  /** Unix seconds: disputes whose evidence is due before then (the ones to answer first). */
  due_before: integer('a Unix timestamp in seconds')
    .refine((n) => n >= 0, { message: 'must be a Unix timestamp in seconds' })
    .optional(),
  limit: listParams.limit,
  starting_after: listParams.starting_after,
};
export type OperatorDisputeListInput = z.output<z.ZodObject<typeof operatorDisputeListFields>>;

/** The merchant's evidence fields and submit flag (POST /v1/disputes/:id); metadata stays the merchant's. */
export const operatorEvidenceFields = { evidence: evidenceSchema.optional(), submit: boolean().optional() };
export type OperatorEvidenceInput = z.output<z.ZodObject<typeof operatorEvidenceFields>>;

export class OperatorDisputes {
  constructor(
    private readonly deps: {
      db: Kysely<Database>;
      clock: Clock;
      disputes: DisputesService;
      files: FilesService;
      audit: AuditService;
    },
  ) {}

  async list(input: OperatorDisputeListInput) {
    const { db, clock } = this.deps;
    const limit = input.limit ?? 20;
    let after: { created_at: Date; id: string } | undefined;
    if (input.starting_after) {
      after = await findDisputeById(db, input.starting_after);
      if (!after) {
        throw invalidParam(
          'starting_after',
          `No such dispute: '${input.starting_after}' (starting_after must be an id from this list)`,
          'resource_missing',
        );
      }
    }
    const rows = await operatorDisputes(
      db,
      {
        status: input.status,
        livemode: input.livemode,
        dueBefore: input.due_before === undefined ? undefined : new Date(input.due_before * 1000),
      },
      { limit, after },
    );
    const now = clock.now();
    const data = await Promise.all(
      rows.slice(0, limit).map(async (row) => ({
        ...(await renderDispute(db, row, row.card_brand, now)),
        merchant: row.merchant_id,
      })),
    );
    return { object: 'list' as const, data, has_more: rows.length > limit, url: '/admin/disputes' };
  }

  async submitEvidence(id: string, input: OperatorEvidenceInput, actor: AuditActor, origin: AuditOrigin) {
    const row = await findDisputeById(this.deps.db, id);
    if (!row) throw resourceMissing('dispute', id, 'id');
    const scope = { merchantId: row.merchant_id, livemode: row.livemode };
    return auditedAction(this.deps.audit, {
      actor,
      origin,
      action: 'dispute.evidence',
      resourceType: 'dispute',
      resourceId: id,
      // The field names only: evidence text is the merchant's and the customer's, not the audit log's.
      requested: {
        merchant: row.merchant_id,
        livemode: row.livemode,
        evidence_fields: Object.keys(input.evidence ?? {}).sort(),
        submit: input.submit ?? null,
      },
      run: async () => ({
        ...(await this.deps.disputes.update(scope, id, { evidence: input.evidence, submit: input.submit })),
        merchant: row.merchant_id,
      }),
      outcome: (dispute) => ({
        status: dispute.status,
        submission_count: dispute.evidence_details.submission_count,
      }),
    });
  }

  /** An evidence file kept under the dispute's merchant and mode, for its file fields; audited. */
  async uploadEvidenceFile(id: string, upload: Upload, actor: AuditActor, origin: AuditOrigin) {
    const row = await findDisputeById(this.deps.db, id);
    if (!row) throw resourceMissing('dispute', id, 'id');
    return auditedAction(this.deps.audit, {
      actor,
      origin,
      action: 'dispute.evidence_file',
      resourceType: 'dispute',
      resourceId: id,
      // The file's name can carry a customer's name: the audit log keeps its size and type only.
      requested: { merchant: row.merchant_id, livemode: row.livemode, size: upload.bytes.byteLength },
      run: () => this.deps.files.create({ merchantId: row.merchant_id, livemode: row.livemode }, upload),
      outcome: (file) => ({ file: file.id, type: file.type }),
    });
  }
}
