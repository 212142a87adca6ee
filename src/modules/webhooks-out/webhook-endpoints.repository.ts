import {
  type ExpressionBuilder,
  type Insertable,
  type Kysely,
  sql,
  type Transaction,
  type Updateable,
} from 'kysely';
import type { Database } from '../../db/schema.js';
import { inScope } from '../../db/scope.js';
import type { Scope } from '../../http/expand.js';
import type { WebhookEndpointRow, WebhookEndpointsTable } from './webhooks-out.table.js';

type Executor = Kysely<Database> | Transaction<Database>;

export async function insertEndpoint(db: Executor, row: Insertable<WebhookEndpointsTable>) {
  return db.insertInto('webhook_endpoints').values(row).returningAll().executeTakeFirstOrThrow();
}

/** Scoped by merchant and mode (invariant 8); a deleted endpoint is not found. */
export async function findEndpoint(
  db: Executor,
  scope: Scope,
  id: string,
  lock = false,
): Promise<WebhookEndpointRow | undefined> {
  let query = db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('id', '=', id)
    .where(inScope(scope))
    .where('deleted_at', 'is', null);
  if (lock) query = query.forUpdate();
  return query.executeTakeFirst();
}

export async function updateEndpoint(db: Executor, id: string, changes: Updateable<WebhookEndpointsTable>) {
  return db
    .updateTable('webhook_endpoints')
    .set(changes)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function endpointsQuery(db: Executor, scope: Scope) {
  return db.selectFrom('webhook_endpoints').selectAll().where(inScope(scope)).where('deleted_at', 'is', null);
}

/** Every operator-visible endpoint, optionally of one merchant or status. */
export function allEndpointsQuery(
  db: Executor,
  filters: { merchant?: string | undefined; status?: string | undefined },
) {
  let query = db.selectFrom('webhook_endpoints').selectAll().where('deleted_at', 'is', null);
  if (filters.merchant) query = query.where('merchant_id', '=', filters.merchant);
  if (filters.status) query = query.where('status', '=', filters.status as 'enabled' | 'disabled');
  return query;
}

/**
 * enabledEndpoints as a scalar subquery (a JSON array of { id, enabled_events }), read in the statement
 * that inserts an event instead of in a round trip of its own.
 */
export function enabledEndpointsAlongside(eb: ExpressionBuilder<Database, 'events'>, scope: Scope) {
  return eb
    .selectFrom('webhook_endpoints')
    .select(
      sql<
        EnabledEndpoint[]
      >`coalesce(jsonb_agg(jsonb_build_object('id', webhook_endpoints.id, 'enabled_events', webhook_endpoints.enabled_events)), '[]'::jsonb)`.as(
        'endpoints',
      ),
    )
    .where('webhook_endpoints.merchant_id', '=', scope.merchantId)
    .where('webhook_endpoints.livemode', '=', scope.livemode)
    .where('webhook_endpoints.status', '=', 'enabled')
    .where('webhook_endpoints.deleted_at', 'is', null);
}

export type EnabledEndpoint = Awaited<ReturnType<typeof enabledEndpoints>>[number];

/** The enabled endpoints an event of this merchant and mode may go to (filters matched in code). */
export async function enabledEndpoints(db: Executor, scope: Scope) {
  return db
    .selectFrom('webhook_endpoints')
    .select(['id', 'enabled_events'])
    .where(inScope(scope))
    .where('status', '=', 'enabled')
    .where('deleted_at', 'is', null)
    .execute();
}
