// Merchants' webhook endpoints: create (secret shown once), retrieve, update, delete, list, and secret
// rotation with an overlap during which both secrets sign every delivery. URLs pass the SSRF guard
// at create and update; the transport checks them again at every send (DNS rebinding).
import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { invalidParam, resourceMissing } from '../../http/errors.js';
import type { Scope } from '../../http/expand.js';
import { type ListParams, listObject, paginate } from '../../http/pagination.js';
import { initialMetadata, MetadataLimitError, mergeMetadata } from '../../http/params.js';
import { newId } from '../../ids.js';
import type { EndpointSecrets } from './endpoint-secrets.js';
import { generateEndpointSecret } from './signing.js';
import { checkWebhookUrl, UnsafeWebhookUrlError } from './url-guard.js';
import {
  type DeletedEndpoint,
  type EndpointCreateInput,
  type EndpointObject,
  type EndpointUpdateInput,
  MAX_ROTATION_OVERLAP_SECONDS,
  toEndpointObject,
} from './webhook-endpoints.js';
import {
  endpointsQuery,
  findEndpoint,
  insertEndpoint,
  updateEndpoint,
} from './webhook-endpoints.repository.js';

const json = (value: unknown) => JSON.stringify(value);

export interface EndpointsDeps {
  db: Kysely<Database>;
  clock: Clock;
  secrets: EndpointSecrets;
  allowPrivateUrls: boolean;
}

export class WebhookEndpointsService {
  constructor(private readonly deps: EndpointsDeps) {}

  /**
   * For idempotent replays of create and rotate_secret: the answer shows the new secret once, and is
   * stored in idempotency_keys for 72 h, so the secret is sealed there like the endpoint's own.
   */
  readonly storedAnswer = {
    seal: (answer: unknown): unknown => {
      const { id, secret, ...rest } = answer as { id: string; secret?: unknown };
      if (typeof secret !== 'string') return answer;
      return { id, ...rest, secret_sealed: this.deps.secrets.seal(id, secret) };
    },
    open: (stored: unknown): unknown => {
      const { id, secret_sealed: sealed, ...rest } = stored as { id: string; secret_sealed?: unknown };
      if (typeof sealed !== 'string') return stored;
      return { id, ...rest, secret: this.deps.secrets.open(id, sealed).reveal() };
    },
  };

  private async checkUrl(scope: Scope, url: string): Promise<string> {
    try {
      const checked = await checkWebhookUrl(url, {
        livemode: scope.livemode,
        allowPrivate: this.deps.allowPrivateUrls,
      });
      return checked.url.toString();
    } catch (error) {
      if (error instanceof UnsafeWebhookUrlError)
        throw invalidParam('url', `url is not allowed for webhooks: ${error.reason}`, 'url_invalid');
      throw error;
    }
  }

  async create(scope: Scope, input: EndpointCreateInput): Promise<EndpointObject & { secret: string }> {
    const url = await this.checkUrl(scope, input.url);
    const id = newId('we', 24);
    const secret = generateEndpointSecret();
    const now = this.deps.clock.now();
    const row = await insertEndpoint(this.deps.db, {
      id,
      merchant_id: scope.merchantId,
      livemode: scope.livemode,
      url,
      enabled_events: json([...new Set(input.enabled_events)]),
      description: input.description ?? null,
      metadata: json(initialMetadata(input.metadata)),
      status: 'enabled',
      disabled_reason: null,
      secret_ciphertext: this.deps.secrets.seal(id, secret),
      previous_secret_ciphertext: null,
      previous_secret_expires_at: null,
      failing_since: null,
      created_at: now,
      updated_at: now,
      deleted_at: null,
    });
    return { ...toEndpointObject(row), secret };
  }

  async retrieve(scope: Scope, id: string): Promise<EndpointObject> {
    const row = await findEndpoint(this.deps.db, scope, id);
    if (!row) throw resourceMissing('webhook_endpoint', id, 'id');
    return toEndpointObject(row);
  }

  async update(scope: Scope, id: string, input: EndpointUpdateInput): Promise<EndpointObject> {
    const url = input.url === undefined ? undefined : await this.checkUrl(scope, input.url);
    return this.deps.db.transaction().execute(async (trx) => {
      const current = await findEndpoint(trx, scope, id, true);
      if (!current) throw resourceMissing('webhook_endpoint', id, 'id');
      let merged: Record<string, string>;
      try {
        merged = mergeMetadata(current.metadata, input.metadata);
      } catch (error) {
        if (error instanceof MetadataLimitError) throw invalidParam('metadata', error.message);
        throw error;
      }
      const row = await updateEndpoint(trx, id, {
        ...(url !== undefined ? { url } : {}),
        ...(input.enabled_events !== undefined
          ? { enabled_events: json([...new Set(input.enabled_events)]) }
          : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.disabled === true ? { status: 'disabled', disabled_reason: 'merchant' } : {}),
        // Re-enabling starts a fresh failure count, so the 5-day rule does not disable it again at once.
        ...(input.disabled === false
          ? { status: 'enabled', disabled_reason: null, failing_since: null }
          : {}),
        metadata: json(merged),
        updated_at: this.deps.clock.now(),
      });
      return toEndpointObject(row);
    });
  }

  async delete(scope: Scope, id: string): Promise<DeletedEndpoint> {
    const current = await findEndpoint(this.deps.db, scope, id);
    if (!current) throw resourceMissing('webhook_endpoint', id, 'id');
    const now = this.deps.clock.now();
    await updateEndpoint(this.deps.db, id, { deleted_at: now, updated_at: now });
    return { id, object: 'webhook_endpoint', deleted: true };
  }

  /** A new secret, shown once; the old one keeps signing until `expiresInSeconds` (default 24 h) pass. */
  async rotateSecret(
    scope: Scope,
    id: string,
    expiresInSeconds = MAX_ROTATION_OVERLAP_SECONDS,
  ): Promise<EndpointObject & { secret: string; previous_secret_expires_at: number }> {
    return this.deps.db.transaction().execute(async (trx) => {
      const current = await findEndpoint(trx, scope, id, true);
      if (!current) throw resourceMissing('webhook_endpoint', id, 'id');
      const secret = generateEndpointSecret();
      const now = this.deps.clock.now();
      const expiresAt = new Date(now.getTime() + expiresInSeconds * 1000);
      const row = await updateEndpoint(trx, id, {
        secret_ciphertext: this.deps.secrets.seal(id, secret),
        previous_secret_ciphertext: current.secret_ciphertext,
        previous_secret_expires_at: expiresAt,
        updated_at: now,
      });
      return {
        ...toEndpointObject(row),
        secret,
        previous_secret_expires_at: Math.floor(expiresAt.getTime() / 1000),
      };
    });
  }

  async list(scope: Scope, params: ListParams) {
    const page = await paginate(endpointsQuery(this.deps.db, scope), params, async (cursor) => {
      return (await findEndpoint(this.deps.db, scope, cursor))?.created_at;
    });
    return listObject('/v1/webhook_endpoints', page.rows.map(toEndpointObject), page.hasMore);
  }
}
