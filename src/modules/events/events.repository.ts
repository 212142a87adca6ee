import type { Insertable, Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import { inScope } from '../../db/scope.js';
import type { Scope } from '../../http/expand.js';
import type { EventRow, EventsTable } from './events.table.js';

type Executor = Kysely<Database> | Transaction<Database>;

export async function insertEvent(db: Executor, row: Insertable<EventsTable>): Promise<EventRow> {
  return db.insertInto('events').values(row).returningAll().executeTakeFirstOrThrow();
}

/** Inserts rows in one statement and returns them in the order given (ids are not ordered). */
export async function insertEvents(db: Executor, rows: Insertable<EventsTable>[]): Promise<EventRow[]> {
  const inserted = await db.insertInto('events').values(rows).returningAll().execute();
  const byId = new Map(inserted.map((row) => [row.id, row]));
  return rows.map((row) => byId.get(row.id) as EventRow);
}

export async function findEvent(db: Executor, scope: Scope, id: string): Promise<EventRow | undefined> {
  return db.selectFrom('events').selectAll().where('id', '=', id).where(inScope(scope)).executeTakeFirst();
}

export function eventsQuery(db: Executor, scope: Scope, filters: { types?: string[] | undefined }) {
  let query = db.selectFrom('events').selectAll().where(inScope(scope));
  if (filters.types && filters.types.length > 0) query = query.where('type', 'in', filters.types);
  return query;
}
