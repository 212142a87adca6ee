import type { AliasedExpression, ExpressionBuilder, Insertable, Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import { inScope } from '../../db/scope.js';
import type { Scope } from '../../http/expand.js';
import type { EventRow, EventsTable } from './events.table.js';

type Executor = Kysely<Database> | Transaction<Database>;

/** Selected with the inserted rows (a listener's subquery), by alias. */
export type Alongside =
  | ((eb: ExpressionBuilder<Database, 'events'>) => AliasedExpression<unknown, string>[])
  | undefined;

export interface InsertedEvent {
  row: EventRow;
  alongside: Record<string, unknown>;
}

function split(returned: Record<string, unknown>): InsertedEvent {
  const row: Record<string, unknown> = {};
  const alongside: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(returned)) {
    if (key.startsWith('alongside_')) alongside[key] = value;
    else row[key] = value;
  }
  return { row: row as unknown as EventRow, alongside };
}

export async function insertEvent(
  db: Executor,
  alongside: Alongside,
  row: Insertable<EventsTable>,
): Promise<InsertedEvent> {
  const query = db.insertInto('events').values(row).returningAll();
  const returned = alongside ? query.returning(alongside) : query;
  return split(await returned.executeTakeFirstOrThrow());
}

/** Inserts rows in one statement and returns them in the order given (ids are not ordered). */
export async function insertEvents(
  db: Executor,
  alongside: Alongside,
  rows: Insertable<EventsTable>[],
): Promise<InsertedEvent[]> {
  const query = db.insertInto('events').values(rows).returningAll();
  const inserted = (await (alongside ? query.returning(alongside) : query).execute()).map(split);
  const byId = new Map(inserted.map((each) => [each.row.id, each]));
  return rows.map((row) => byId.get(row.id) as InsertedEvent);
}

export async function findEvent(db: Executor, scope: Scope, id: string): Promise<EventRow | undefined> {
  return db.selectFrom('events').selectAll().where('id', '=', id).where(inScope(scope)).executeTakeFirst();
}

export function eventsQuery(db: Executor, scope: Scope, filters: { types?: string[] | undefined }) {
  let query = db.selectFrom('events').selectAll().where(inScope(scope));
  if (filters.types && filters.types.length > 0) query = query.where('type', 'in', filters.types);
  return query;
}
