// The reads behind `payctl preflight`: old API keys, outbound endpoints without a usable secret, and
// whether PostgreSQL archives its WAL (point-in-time recovery).
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

export interface OldKey {
  id: string;
  merchant_id: string;
  livemode: boolean;
  prefix: string;
  created_at: Date;
}

/** Secret and restricted keys that still work with no expiry set, created before `cutoff`. */
export async function liveKeysCreatedBefore(db: Executor, cutoff: Date): Promise<OldKey[]> {
  return db
    .selectFrom('api_keys')
    .select(['id', 'merchant_id', 'livemode', 'prefix', 'created_at'])
    .where('kind', 'in', ['secret', 'restricted'])
    .where('revoked_at', 'is', null)
    .where('expires_at', 'is', null)
    .where('created_at', '<', cutoff)
    .orderBy('created_at', 'asc')
    .execute();
}

export interface EndpointSecretCounts {
  enabled: number;
  without_secret: number;
  live_over_http: number;
}

export async function endpointSecretCounts(db: Executor): Promise<EndpointSecretCounts> {
  const row = await db
    .selectFrom('webhook_endpoints')
    .select([
      sql<number>`count(*)::int`.as('enabled'),
      sql<number>`(count(*) filter (where coalesce(secret_ciphertext, '') = ''))::int`.as('without_secret'),
      sql<number>`(count(*) filter (where livemode and url like 'http:%'))::int`.as('live_over_http'),
    ])
    .where('status', '=', 'enabled')
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  return row;
}

/** PostgreSQL's archive_mode and archive_command (readable without superuser). */
export async function walArchiving(db: Executor): Promise<{ mode: string; command: string }> {
  const result = await sql<{ mode: string; command: string }>`
    select current_setting('archive_mode') as mode, current_setting('archive_command') as command`.execute(
    db,
  );
  return result.rows[0] ?? { mode: 'off', command: '' };
}
