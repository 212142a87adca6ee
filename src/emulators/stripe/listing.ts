// Owns list endpoints: newest first, `limit` 1-100 (default 10), `starting_after` / `ending_before`
// cursors and `created` bounds, over an account's creation-ordered ids. Lists may scan; reads by id
// never do.
import { invalidRequest } from './errors.js';
import type { ListResult } from './http.js';
import { isRaw, Params, type Raw } from './params.js';
import type { ObjectType, RecordOf } from './records.js';
import type { StripeStore } from './store.js';

export const LIST_PARAMS = ['limit', 'starting_after', 'ending_before', 'created'] as const;

interface CreatedBounds {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
}

function createdBounds(params: Params): CreatedBounds | null {
  const value = params.raw['created'];
  if (value === undefined) return null;
  if (!isRaw(value)) {
    const exact = params.integer('created');
    return exact === undefined ? null : { gte: exact, lte: exact };
  }
  const inner = new Params(value as Raw, ['gt', 'gte', 'lt', 'lte'], 'created');
  return {
    gt: inner.integer('gt'),
    gte: inner.integer('gte'),
    lt: inner.integer('lt'),
    lte: inner.integer('lte'),
  };
}

function withinBounds(created: number, bounds: CreatedBounds | null): boolean {
  if (!bounds) return true;
  if (bounds.gt !== undefined && !(created > bounds.gt)) return false;
  if (bounds.gte !== undefined && !(created >= bounds.gte)) return false;
  if (bounds.lt !== undefined && !(created < bounds.lt)) return false;
  if (bounds.lte !== undefined && !(created <= bounds.lte)) return false;
  return true;
}

export function listPage<T extends ObjectType>(
  store: StripeStore,
  type: T,
  account: string,
  params: Params,
  url: string,
  options: { filter?: (record: RecordOf<T>) => boolean; ids?: readonly string[] } = {},
): ListResult {
  const limit = params.integer('limit') ?? 10;
  if (limit < 1 || limit > 100) {
    throw invalidRequest('Invalid limit: must be between 1 and 100', 'parameter_invalid_integer', 'limit');
  }
  const startingAfter = params.string('starting_after');
  const endingBefore = params.string('ending_before');
  const bounds = createdBounds(params);
  const ids = options.ids ?? store.list(type, account);
  const matches = (id: string) => {
    const record = store.get(type, id);
    return (
      record !== undefined &&
      record.account === account &&
      withinBounds(record.created, bounds) &&
      (options.filter?.(record) ?? true)
    );
  };
  const cursorIndex = (cursor: string, param: string) => {
    const index = ids.lastIndexOf(cursor);
    if (index < 0) throw invalidRequest(`No such object: '${cursor}'`, 'resource_missing', param, 404);
    return index;
  };

  const picked: string[] = [];
  let hasMore = false;
  if (endingBefore !== undefined) {
    // Walk towards newer objects from the cursor, then present them newest first.
    for (let i = cursorIndex(endingBefore, 'ending_before') + 1; i < ids.length; i++) {
      if (!matches(ids[i]!)) continue;
      if (picked.length === limit) {
        hasMore = true;
        break;
      }
      picked.push(ids[i]!);
    }
    picked.reverse();
  } else {
    const start =
      startingAfter !== undefined ? cursorIndex(startingAfter, 'starting_after') - 1 : ids.length - 1;
    for (let i = start; i >= 0; i--) {
      if (!matches(ids[i]!)) continue;
      if (picked.length === limit) {
        hasMore = true;
        break;
      }
      picked.push(ids[i]!);
    }
  }
  return { data: picked.map((id) => store.get(type, id)!), has_more: hasMore, url };
}
