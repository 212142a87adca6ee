// The merchant's disputes API: list and retrieve, submit evidence (forwarded to the provider, which
// decides), and close (accept). No provider call runs inside a transaction (invariant 4): the dispute
// is read, the provider called, and its answer applied through the settlement under the charge's lock,
// the same path its webhooks take, so whichever arrives first makes the postings and events once.
import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { AppError, invalidParam, resourceMissing, serviceUnavailable } from '../../http/errors.js';
import type { Scope } from '../../http/expand.js';
import { type ListParams, listObject, paginate } from '../../http/pagination.js';
import { MetadataLimitError, type MetadataUpdate, mergeMetadata } from '../../http/params.js';
import {
  DisputeActionError,
  type DisputeOperations,
  type EvidenceFile,
  handlesDisputes,
  type ProviderDispute,
} from '../../providers/provider.js';
import type { ProviderRegistry } from '../../providers/registry.js';
import { FILE_EVIDENCE_FIELDS } from '../../providers/stripe/dispute-evidence.js';
import { DISPUTE_FILES_MAX_BYTES } from '../files/files.js';
import type { FilesService } from '../files/files.service.js';
import type { FileInfo } from '../files/files.table.js';
import { type DisputeObject, isClosed, renderDispute } from './dispute-object.js';
import type { DisputeSettlement, MerchantDisputeChange } from './dispute-settlement.js';
import { disputesQuery, findDispute } from './disputes.repository.js';
import type { DisputeRow } from './disputes.table.js';

export interface DisputeUpdate {
  evidence?: Record<string, string | undefined> | undefined;
  metadata?: MetadataUpdate | undefined;
  submit?: boolean | undefined;
}

export interface DisputeListParams extends ListParams {
  charge?: string | undefined;
  payment_intent?: string | undefined;
}

type Listed = DisputeRow & { card_brand: string | null };

export class DisputesService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly providers: ProviderRegistry,
    private readonly settlement: DisputeSettlement,
    private readonly files: FilesService,
  ) {}

  private async load(scope: Scope, id: string): Promise<Listed> {
    const row = await findDispute(this.db, scope, id);
    if (!row) throw resourceMissing('dispute', id, 'id');
    return row;
  }

  private render(row: Listed): Promise<DisputeObject> {
    return renderDispute(this.db, row, row.card_brand, this.clock.now());
  }

  async retrieve(scope: Scope, id: string): Promise<DisputeObject> {
    return this.render(await this.load(scope, id));
  }

  async list(scope: Scope, params: DisputeListParams) {
    const query = disputesQuery(this.db, scope, {
      charge: params.charge,
      paymentIntent: params.payment_intent,
    });
    const page = await paginate(
      query,
      params,
      async (id) => (await findDispute(this.db, scope, id))?.created_at,
    );
    const data = await Promise.all(page.rows.map((row) => this.render(row as Listed)));
    return listObject('/v1/disputes', data, page.hasMore);
  }

  async update(scope: Scope, id: string, input: DisputeUpdate): Promise<DisputeObject> {
    const row = await this.load(scope, id);
    const metadata = this.mergedMetadata(row, input.metadata);
    const evidence = input.evidence ? definedOnly(input.evidence) : undefined;
    if (evidence === undefined && !input.submit) {
      if (metadata) await this.settlement.updateMetadata(row, metadata);
      return this.retrieve(scope, id);
    }
    if (isClosed(row.status)) {
      throw invalidParam(
        'evidence',
        `This dispute is already closed (${row.status}); evidence can no longer be submitted.`,
        'dispute_already_closed',
      );
    }
    if (row.due_by && this.clock.now().getTime() > row.due_by.getTime()) {
      throw invalidParam(
        'evidence',
        `The deadline for evidence on this dispute passed at ${row.due_by.toISOString()}.`,
        'dispute_evidence_past_due',
      );
    }
    const submit = input.submit ?? true;
    const all = { ...row.evidence, ...(evidence ?? {}) };
    const attached = await this.evidenceFiles(scope, all);
    const answer = await this.act(row, async (provider) => {
      const sent = { ...all };
      const files: EvidenceFile[] = [];
      for (const [field, file] of attached) {
        if (provider.uploadEvidenceFile) {
          // Each file goes to the provider once; evidence saved or submitted again names the same copy.
          let copy = file.provider_files[row.provider];
          if (!copy) {
            copy = await provider.uploadEvidenceFile(await this.fileFor(scope, field, file));
            await this.files.recordProviderCopy(file.id, row.provider, copy);
          }
          sent[field] = copy;
        } else if (submit) {
          files.push(await this.fileFor(scope, field, file));
        }
      }
      return provider.submitDisputeEvidence(row.provider_dispute_id, sent, submit, files);
    });
    await this.apply(row, answer, { evidence, metadata, submitted: submit });
    return this.retrieve(scope, id);
  }

  async close(scope: Scope, id: string): Promise<DisputeObject> {
    const row = await this.load(scope, id);
    if (isClosed(row.status)) {
      throw invalidParam('id', `This dispute is already closed (${row.status}).`, 'dispute_already_closed');
    }
    const answer = await this.act(row, (provider) => provider.closeDispute(row.provider_dispute_id));
    await this.apply(row, answer, {});
    return this.retrieve(scope, id);
  }

  /**
   * The files the evidence's file fields name: each must be this merchant's upload for dispute evidence
   * (a 400 naming the field otherwise), and together no larger than a provider takes for one dispute.
   */
  private async evidenceFiles(
    scope: Scope,
    evidence: Record<string, string>,
  ): Promise<Map<string, FileInfo>> {
    const named = Object.entries(evidence).filter(
      ([field, id]) => FILE_EVIDENCE_FIELDS.has(field) && id !== '',
    );
    const found = new Map(
      (await this.files.found(scope, [...new Set(named.map(([, id]) => id))])).map((file) => [file.id, file]),
    );
    const attached = new Map<string, FileInfo>();
    for (const [field, id] of named) {
      const file = found.get(id);
      if (!file || file.purpose !== 'dispute_evidence') {
        throw invalidParam(
          `evidence[${field}]`,
          `No such file upload: '${id}'. ${field} takes the id of a file uploaded with POST /v1/files and purpose dispute_evidence.`,
          'resource_missing',
        );
      }
      attached.set(field, file);
    }
    const total = [...new Set(attached.values())].reduce((sum, file) => sum + file.size, 0);
    if (total > DISPUTE_FILES_MAX_BYTES) {
      throw invalidParam(
        'evidence',
        `The evidence files come to ${total} bytes; a dispute takes at most ${DISPUTE_FILES_MAX_BYTES} bytes of files in all.`,
        'evidence_files_too_large',
      );
    }
    return attached;
  }

  private async fileFor(scope: Scope, field: string, file: FileInfo): Promise<EvidenceFile> {
    return { field, ...(await this.files.forProvider(scope, file)) };
  }

  private mergedMetadata(row: DisputeRow, update: MetadataUpdate | undefined) {
    if (update === undefined) return undefined;
    try {
      return mergeMetadata(row.metadata, update);
    } catch (error) {
      if (error instanceof MetadataLimitError) throw invalidParam('metadata', error.message);
      throw error;
    }
  }

  private async act(
    row: DisputeRow,
    run: (provider: DisputeOperations) => Promise<ProviderDispute>,
  ): Promise<ProviderDispute> {
    const provider = this.providers.get(row.provider as Parameters<ProviderRegistry['get']>[0]);
    if (!provider || !handlesDisputes(provider)) {
      throw serviceUnavailable(`The provider of this dispute (${row.provider}) is not configured here.`);
    }
    try {
      return await run(provider);
    } catch (error) {
      if (!(error instanceof DisputeActionError)) throw error;
      if (error.kind === 'refused') {
        throw new AppError(400, 'invalid_request_error', 'dispute_action_refused', error.message, {
          shouldRetry: false,
        });
      }
      // Nothing was recorded here; repeating the request is safe (evidence and closing are idempotent).
      throw serviceUnavailable(`The provider could not be reached: ${error.message}`, 'provider_unavailable');
    }
  }

  private async apply(row: DisputeRow, answer: ProviderDispute, change: MerchantDisputeChange) {
    const { providerChargeId: _charge, ...observed } = answer;
    await this.settlement.apply(row.charge_id, row.provider, observed, change);
  }
}

function definedOnly(evidence: Record<string, string | undefined>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [field, value] of Object.entries(evidence)) if (value !== undefined) kept[field] = value;
  return kept;
}
