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
  handlesDisputes,
  type ProviderDispute,
} from '../../providers/provider.js';
import type { ProviderRegistry } from '../../providers/registry.js';
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
    const answer = await this.act(row, (provider) =>
      provider.submitDisputeEvidence(row.provider_dispute_id, all, submit),
    );
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
