// Records events inside the caller's transaction, so an event exists exactly when its change committed
// (DESIGN invariant 4), and serves them to merchants. Listeners (webhook delivery) are told in the same
// transaction so their jobs commit with the event.
import type { AliasableExpression, ExpressionBuilder, Kysely, Transaction } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { invalidParam, resourceMissing } from '../../http/errors.js';
import type { Scope } from '../../http/expand.js';
import { type ListParams, listObject, paginate } from '../../http/pagination.js';
import { newId } from '../../ids.js';
import { type EventObject, type NewEvent, toEventObject } from './events.js';
import {
  eventsQuery,
  findEvent,
  type InsertedEvent,
  insertEvent,
  insertEvents,
} from './events.repository.js';

/**
 * `alongside` is what the listener's `alongside` query (if it has one) read in the statement that
 * inserted the event: the same snapshot a separate read in the transaction would see, without its
 * round trip.
 */
export type EventListener = (
  trx: Transaction<Database>,
  event: EventObject,
  scope: Scope,
  alongside?: unknown,
) => Promise<void>;

/**
 * A scalar subquery a listener wants read with the events it is told of (webhook delivery: the scope's
 * enabled endpoints), selected in the event insert's RETURNING clause.
 */
export type EventAlongside = (
  eb: ExpressionBuilder<Database, 'events'>,
  scope: Scope,
) => AliasableExpression<unknown>;

export class EventsService {
  private readonly listeners: { listener: EventListener; alongside?: EventAlongside | undefined }[] = [];

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  /** Webhook delivery subscribes here; listeners run inside the recording transaction. */
  onEvent(listener: EventListener, alongside?: EventAlongside): void {
    this.listeners.push({ listener, alongside });
  }

  /** The listeners' `alongside` subqueries, for the insert's RETURNING clause. */
  private alongside(scope: Scope) {
    const wanted = this.listeners.flatMap(({ alongside }, index) =>
      alongside ? [{ alongside, index }] : [],
    );
    if (wanted.length === 0) return undefined;
    return (eb: ExpressionBuilder<Database, 'events'>) =>
      wanted.map(({ alongside, index }) => alongside(eb, scope).as(`alongside_${index}`));
  }

  private async tell(trx: Transaction<Database>, scope: Scope, inserted: InsertedEvent[]) {
    const objects: EventObject[] = [];
    for (const { row, alongside } of inserted) {
      const object = toEventObject(row);
      objects.push(object);
      for (const [index, { listener }] of this.listeners.entries())
        await listener(trx, object, scope, alongside[`alongside_${index}`]);
    }
    return objects;
  }

  async record(trx: Transaction<Database>, scope: Scope, event: NewEvent): Promise<EventObject> {
    const inserted = await insertEvent(trx, this.alongside(scope), {
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
    return (await this.tell(trx, scope, [inserted]))[0] as EventObject;
  }

  /** Several events in one statement (a settlement writes two or three at once), in the given order. */
  async recordMany(trx: Transaction<Database>, scope: Scope, events: NewEvent[]): Promise<EventObject[]> {
    if (events.length === 0) return [];
    if (events.length === 1) return [await this.record(trx, scope, events[0] as NewEvent)];
    const now = this.clock.now();
    const inserted = await insertEvents(
      trx,
      this.alongside(scope),
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
    return this.tell(trx, scope, inserted);
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
