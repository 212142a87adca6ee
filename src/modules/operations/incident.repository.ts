// The reads behind `payctl incident report`: the audit log and the notable events of a window, oldest
// first and bounded, and the count of every event type in it (so a busy hour costs one aggregate).
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

export async function auditBetween(db: Executor, from: Date, to: Date, limit: number) {
  return db
    .selectFrom('audit_log')
    .select([
      'id',
      'occurred_at',
      'actor_type',
      'actor_id',
      'action',
      'resource_type',
      'resource_id',
      'outcome',
    ])
    .select(['old_value', 'new_value'])
    .where('occurred_at', '>=', from)
    .where('occurred_at', '<=', to)
    .orderBy('seq', 'asc')
    .limit(limit)
    .execute();
}

export async function eventsBetween(
  db: Executor,
  from: Date,
  to: Date,
  types: readonly string[],
  limit: number,
) {
  return db
    .selectFrom('events')
    .select(['id', 'created_at', 'type', 'object_id', 'merchant_id', 'livemode'])
    .where('created_at', '>=', from)
    .where('created_at', '<=', to)
    .where('type', 'in', [...types])
    .orderBy('created_at', 'asc')
    .orderBy('id', 'asc')
    .limit(limit)
    .execute();
}

export async function eventCountsBetween(db: Executor, from: Date, to: Date) {
  return db
    .selectFrom('events')
    .select(['type', sql<number>`count(*)::int`.as('count')])
    .where('created_at', '>=', from)
    .where('created_at', '<=', to)
    .groupBy('type')
    .orderBy('type')
    .execute();
}
