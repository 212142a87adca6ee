// Records events inside the caller's transaction, so an event exists exactly when its change committed
// (DESIGN invariant 4), and serves them to merchants. Listeners (webhook delivery) are told in the same
// transaction so their jobs commit with the event.
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { invalidParam, resourceMissing } from '../../http/errors.js';
import type { Scope } from '../../http/expand.js';
import { type ListParams, listObject, paginate } from '../../http/pagination.js';
import { newId } from '../../ids.js';
import { type EventObject, type NewEvent, toEventObject } from './events.js';
import { eventsQuery, findEvent, insertEvent, insertEvents } from './events.repository.js';

export type EventListener = (trx: Transaction<Database>, event: EventObject, scope: Scope) => Promise<void>;

export class EventsService {
  private readonly listeners: EventListener[] = [];

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  /** Webhook delivery subscribes here; listeners run inside the recording transaction. */
  onEvent(listener: EventListener): void {
    this.listeners.push(listener);
  }

  async record(trx: Transaction<Database>, scope: Scope, event: NewEvent): Promise<EventObject> {
    const row = await insertEvent(trx, {
      id: newId('evt'),
      merchant_id: scope.merchantId,
      livemode: scope.livemode,
      type: event.type,
      created_at: this.clock.now(),
      object_id: event.object.id,
      data: JSON.stringify({
        object: event.object,
        ...(event.previousAttributes ? { previous_attributes: event.previousAttributes } : {}),
      }),
      request_id: event.request?.id ?? null,
      idempotency_key: event.request?.idempotencyKey ?? null,
    });
    const object = toEventObject(row);
    for (const listener of this.listeners) await listener(trx, object, scope);
    return object;
  }

  /** Several events in one statement (a settlement writes two or three at once), in the given order. */
  async recordMany(trx: Transaction<Database>, scope: Scope, events: NewEvent[]): Promise<EventObject[]> {
    if (events.length === 0) return [];
    if (events.length === 1) return [await this.record(trx, scope, events[0] as NewEvent)];
    const now = this.clock.now();
    const rows = await insertEvents(
      trx,
      events.map((event) => ({
        id: newId('evt'),
        merchant_id: scope.merchantId,
        livemode: scope.livemode,
        type: event.type,
        created_at: now,
        object_id: event.object.id,
        data: JSON.stringify({
          object: event.object,
          ...(event.previousAttributes ? { previous_attributes: event.previousAttributes } : {}),
        }),
        request_id: event.request?.id ?? null,
        idempotency_key: event.request?.idempotencyKey ?? null,
      })),
    );
    const objects = rows.map(toEventObject);
    for (const object of objects) for (const listener of this.listeners) await listener(trx, object, scope);
    return objects;
  }

  async retrieve(scope: Scope, id: string): Promise<EventObject> {
    const row = await findEvent(this.db, scope, id);
    if (!row) throw resourceMissing('event', id, 'id');
    return toEventObject(row);
  }

  async list(scope: Scope, params: ListParams & { type?: string | undefined; types?: string[] | undefined }) {
    if (params.type && params.types) {
      throw invalidParam('types', 'You may only specify one of type and types.');
    }
    const types = params.types ?? (params.type ? [params.type] : undefined);
    const page = await paginate(eventsQuery(this.db, scope, { types }), params, async (id) => {
      return (await findEvent(this.db, scope, id))?.created_at;
    });
    return listObject('/v1/events', page.rows.map(toEventObject), page.hasMore);
  }
}
