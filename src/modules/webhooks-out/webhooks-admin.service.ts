// What operators do with outbound webhooks: read endpoints and deliveries across merchants, replay
// deliveries (by event, an endpoint's failures, or a whole time range in bounded batches; same rows,
// so the same webhook-ids), and trigger a sample event that flows the normal path. Replays and triggers are audited.
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { invalidParam, missingParam, resourceMissing } from '../../http/errors.js';
import { type ListParams, listObject, paginate } from '../../http/pagination.js';
import { randomBase62 } from '../../ids.js';
import type { AuditActor, AuditOrigin } from '../audit/audit.js';
import type { AuditService } from '../audit/audit.service.js';
import type { EventsService } from '../events/events.service.js';
import {
  attemptsOf,
  type DeliveryCursor,
  type DeliveryFilters,
  deliveriesQuery,
  deliveryPage,
  findDelivery,
  insertDeliveries,
  requeueDeliveries,
} from './deliveries.repository.js';
import { newDeliveryRow, type WebhookDeliveries } from './deliveries.service.js';
import { matchesEnabledEvents, toEndpointObject } from './webhook-endpoints.js';
import { allEndpointsQuery, enabledEndpoints } from './webhook-endpoints.repository.js';
import { type ReplayInput, sampleObject, toDeliveryObject } from './webhooks-admin.js';

export interface AdminDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  events: EventsService;
  deliveries: WebhookDeliveries;
  /** Deliveries re-queued per transaction when replaying an endpoint's failures or a time range. */
  replayBatchSize: number;
}

export interface Acting {
  actor: AuditActor;
  origin?: AuditOrigin | undefined;
}

export class WebhooksAdminService {
  constructor(private readonly deps: AdminDeps) {}

  async listEndpoints(params: ListParams & { merchant?: string | undefined; status?: string | undefined }) {
    const { db } = this.deps;
    const page = await paginate(allEndpointsQuery(db, params), params, async (id) => {
      const row = await db
        .selectFrom('webhook_endpoints')
        .select('created_at')
        .where('id', '=', id)
        .executeTakeFirst();
      return row?.created_at;
    });
    return listObject(
      '/admin/webhook_endpoints',
      page.rows.map((row) => ({
        ...toEndpointObject(row),
        merchant: row.merchant_id,
        disabled_reason: row.disabled_reason,
        failing_since: row.failing_since ? Math.floor(row.failing_since.getTime() / 1000) : null,
      })),
      page.hasMore,
    );
  }

  async listDeliveries(params: ListParams & DeliveryFilters) {
    const { db } = this.deps;
    const page = await paginate(
      deliveriesQuery(db, params),
      params,
      async (id) => (await findDelivery(db, id))?.created_at,
    );
    return listObject(
      '/admin/webhook_deliveries',
      page.rows.map((row) => toDeliveryObject(row)),
      page.hasMore,
    );
  }

  async retrieveDelivery(id: string) {
    const row = await findDelivery(this.deps.db, id);
    if (!row) throw resourceMissing('webhook_delivery', id, 'id');
    return toDeliveryObject(row, await attemptsOf(this.deps.db, id));
  }

  /** Re-queues the selected deliveries at the start of the ladder; answers how many. */
  async replay(input: ReplayInput, acting: Acting): Promise<{ object: 'webhook_replay'; replayed: number }> {
    const selector = replaySelector(input);
    const replayed =
      selector === 'event'
        ? await this.replayEvent(input.event as string, input, acting)
        : await this.replayPages(selector, input, acting);
    return { object: 'webhook_replay', replayed };
  }

  /** Every delivery of one event, plus one for each endpoint that matches it now but never had it. */
  private async replayEvent(eventId: string, input: ReplayInput, acting: Acting): Promise<number> {
    const { db, clock, deliveries } = this.deps;
    return db.transaction().execute(async (trx) => {
      const now = clock.now();
      const event = await trx.selectFrom('events').selectAll().where('id', '=', eventId).executeTakeFirst();
      if (!event) throw resourceMissing('event', eventId, 'event');
      const scope = { merchantId: event.merchant_id, livemode: event.livemode };
      const matching = (await enabledEndpoints(trx, scope)).filter((e) =>
        matchesEnabledEvents(e.enabled_events, event.type),
      );
      const created = await insertDeliveries(
        trx,
        matching.map((endpoint) => newDeliveryRow(event.id, event.created_at, endpoint.id, scope, now)),
      );
      const createdIds = new Set(created.map((row) => row.id));
      const existing = (await deliveriesQuery(trx, { event: event.id }).select('id').execute())
        .map((row) => row.id)
        .filter((id) => !createdIds.has(id));
      const requeued = await requeueDeliveries(trx, existing, now);
      await deliveries.enqueue(trx, [...created, ...requeued], now);
      const replayed = createdIds.size + existing.length;
      await this.audit(trx, 'event', input, acting, { replayed });
      return replayed;
    });
  }

  /**
   * An endpoint's failures or a time range, however many: `replayBatchSize` deliveries per transaction,
   * oldest first, each batch audited in its own transaction, so memory and lock time stay bounded and
   * the service keeps delivering meanwhile. The cursor walks (created_at, id), which a replay leaves
   * alone, so each selected delivery is re-queued once per call.
   */
  private async replayPages(selector: 'endpoint' | 'range', input: ReplayInput, acting: Acting) {
    const { db, clock, deliveries, replayBatchSize } = this.deps;
    const filters: DeliveryFilters =
      selector === 'endpoint'
        ? { endpoint: input.endpoint, status: input.status }
        : { endpoint: input.endpoint, from: input.from, to: input.to };
    let cursor: DeliveryCursor | undefined;
    let replayed = 0;
    for (let batch = 1; ; batch++) {
      const { page, more } = await db.transaction().execute(async (trx) => {
        // One row past the batch says whether another batch follows, without an empty last one.
        const rows = await deliveryPage(trx, filters, cursor, replayBatchSize + 1);
        const page = rows.slice(0, replayBatchSize);
        const now = clock.now();
        const ids = page.map((row) => row.id);
        await deliveries.enqueue(trx, await requeueDeliveries(trx, ids, now), now);
        await this.audit(trx, selector, input, acting, { batch, replayed: page.length });
        return { page, more: rows.length > replayBatchSize };
      });
      replayed += page.length;
      cursor = page.at(-1) ?? cursor;
      if (!more) return replayed;
    }
  }

  private audit(
    trx: Transaction<Database>,
    selector: 'event' | 'endpoint' | 'range',
    input: ReplayInput,
    acting: Acting,
    counts: { batch?: number; replayed: number },
  ) {
    return this.deps.audit.record(
      {
        actor: acting.actor,
        action: 'webhooks.replay',
        resourceType: selector === 'event' ? 'event' : 'webhook_endpoint',
        resourceId: selector === 'event' ? input.event : input.endpoint,
        outcome: 'success',
        origin: acting.origin,
        newValue: { selector, ...serializable(input), ...counts },
      },
      trx,
    );
  }

  /** Records a sample event of `type` for one endpoint (or every matching endpoint of a merchant). */
  async trigger(
    input: { type: string; endpoint?: string | undefined; merchant?: string | undefined },
    acting: Acting,
  ) {
    const { db, events, audit, deliveries } = this.deps;
    let scope: { merchantId: string; livemode: boolean };
    if (input.endpoint) {
      const endpoint = await db
        .selectFrom('webhook_endpoints')
        .select(['merchant_id', 'livemode'])
        .where('id', '=', input.endpoint)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      if (!endpoint) throw resourceMissing('webhook_endpoint', input.endpoint, 'endpoint');
      if (input.merchant && input.merchant !== endpoint.merchant_id)
        throw invalidParam(
          'merchant',
          `endpoint ${input.endpoint} does not belong to merchant ${input.merchant}`,
        );
      scope = { merchantId: endpoint.merchant_id, livemode: endpoint.livemode };
    } else if (input.merchant) {
      const merchant = await db
        .selectFrom('merchants')
        .select('id')
        .where('id', '=', input.merchant)
        .executeTakeFirst();
      if (!merchant) throw resourceMissing('merchant', input.merchant, 'merchant');
      scope = { merchantId: merchant.id, livemode: false };
    } else {
      throw missingParam('endpoint');
    }
    const event = await db.transaction().execute(async (trx) => {
      const recorded = await deliveries.onlyTo(trx, input.endpoint, () =>
        events.record(trx, scope, {
          type: input.type,
          object: sampleObject(input.type, scope.livemode, randomBase62(14)),
        }),
      );
      await audit.record(
        {
          actor: acting.actor,
          action: 'webhooks.trigger',
          resourceType: 'event',
          resourceId: recorded.id,
          outcome: 'success',
          origin: acting.origin,
          newValue: { type: input.type, endpoint: input.endpoint ?? null, merchant: scope.merchantId },
        },
        trx,
      );
      return recorded;
    });
    return event;
  }
}

function replaySelector(input: ReplayInput): 'event' | 'endpoint' | 'range' {
  const range = input.from !== undefined || input.to !== undefined;
  const chosen = [input.event !== undefined, input.status !== undefined, range].filter(Boolean).length;
  if (chosen !== 1) {
    throw invalidParam(
      input.event !== undefined ? 'event' : input.status !== undefined ? 'status' : range ? 'from' : 'event',
      'Give exactly one of: event; endpoint with status (failed or dead); from and to (optionally with endpoint).',
    );
  }
  if (input.event !== undefined) {
    if (input.endpoint !== undefined)
      throw invalidParam('endpoint', 'endpoint cannot be combined with event.');
    return 'event';
  }
  if (input.status !== undefined) {
    if (input.endpoint === undefined) throw missingParam('endpoint');
    return 'endpoint';
  }
  if (input.from === undefined) throw missingParam('from');
  if (input.to === undefined) throw missingParam('to');
  if (input.from >= input.to) throw invalidParam('to', 'to must be later than from.');
  return 'range';
}

function serializable(input: ReplayInput) {
  return {
    ...(input.event ? { event: input.event } : {}),
    ...(input.endpoint ? { endpoint: input.endpoint } : {}),
    ...(input.status ? { status: input.status } : {}),
    ...(input.from ? { from: input.from.toISOString() } : {}),
    ...(input.to ? { to: input.to.toISOString() } : {}),
  };
}
