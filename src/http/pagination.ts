// List pagination built once for every resource: limit, starting_after, ending_before and created
// filters, ordered newest first by (created, id) so objects created in the same second page correctly.
import { type SelectQueryBuilder, sql } from 'kysely';
import { z } from 'zod';
import { invalidParam } from './errors.js';
import { integer } from './params.js';

const timestamp = integer('a Unix timestamp in seconds').refine((n) => n >= 0, {
  message: 'must be a Unix timestamp in seconds',
});

export const listParams = {
  limit: integer()
    .refine((n) => n >= 1 && n <= 100, { message: 'must be between 1 and 100' })
    .optional(),
  starting_after: z.string().max(255).optional(),
  ending_before: z.string().max(255).optional(),
  created: z
    .union([
      timestamp,
      z.strictObject({
        gt: timestamp.optional(),
        gte: timestamp.optional(),
        lt: timestamp.optional(),
        lte: timestamp.optional(),
      }),
    ])
    .optional(),
};

export interface ListParams {
  limit?: number | undefined;
  starting_after?: string | undefined;
  ending_before?: string | undefined;
  created?:
    | number
    | { gt?: number | undefined; gte?: number | undefined; lt?: number | undefined; lte?: number | undefined }
    | undefined;
}

export interface Page<Row> {
  rows: Row[];
  hasMore: boolean;
}

/** Finds the cursor object's creation time, scoped like every other read; undefined if not visible. */
export type CursorLookup = (id: string) => Promise<Date | undefined>;

const seconds = (n: number) => new Date(n * 1000);

/**
 * Pages a query whose rows carry `created_at` and `id`. `created` in the API is whole seconds, so the
 * filters compare against second boundaries.
 */
export async function paginate<DB, TB extends keyof DB, Row extends { id: string; created_at: Date }>(
  base: SelectQueryBuilder<DB, TB, Row>,
  params: ListParams,
  findCursor: CursorLookup,
): Promise<Page<Row>> {
  const limit = params.limit ?? 10;
  if (params.starting_after && params.ending_before) {
    throw invalidParam('ending_before', 'You may only specify one of starting_after and ending_before.');
  }
  let query = base;
  const created = params.created;
  if (typeof created === 'number') {
    query = query
      .where(sql<boolean>`created_at >= ${seconds(created)}`)
      .where(sql<boolean>`created_at < ${seconds(created + 1)}`);
  } else if (created) {
    if (created.gt !== undefined) query = query.where(sql<boolean>`created_at >= ${seconds(created.gt + 1)}`);
    if (created.gte !== undefined) query = query.where(sql<boolean>`created_at >= ${seconds(created.gte)}`);
    if (created.lt !== undefined) query = query.where(sql<boolean>`created_at < ${seconds(created.lt)}`);
    if (created.lte !== undefined)
      query = query.where(sql<boolean>`created_at < ${seconds(created.lte + 1)}`);
  }

  const cursorId = params.starting_after ?? params.ending_before;
  const forward = params.ending_before === undefined;
  if (cursorId !== undefined) {
    const cursorParam = forward ? 'starting_after' : 'ending_before';
    const cursorCreated = await findCursor(cursorId);
    if (!cursorCreated) {
      throw invalidParam(
        cursorParam,
        `No such object: '${cursorId}' (${cursorParam} must be an id from this list)`,
        'resource_missing',
      );
    }
    query = forward
      ? query.where(sql<boolean>`(created_at, id) < (${cursorCreated}, ${cursorId})`)
      : query.where(sql<boolean>`(created_at, id) > (${cursorCreated}, ${cursorId})`);
  }

  const direction = forward ? sql`desc` : sql`asc`;
  const rows = await query
    .orderBy(sql`created_at ${direction}`)
    .orderBy(sql`id ${direction}`)
    .limit(limit + 1)
    .execute();
  const hasMore = rows.length > limit;
  const pageRows = rows.slice(0, limit);
  if (!forward) pageRows.reverse();
  return { rows: pageRows, hasMore };
}

export interface ListObject<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  url: string;
}

export function listObject<T>(url: string, data: T[], hasMore: boolean): ListObject<T> {
  return { object: 'list', data, has_more: hasMore, url };
}
