// SQL for blocked addresses and failed authentications. Executor first, so callers pick the transaction.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { IpBlockRow, IpBlocksTable } from './ip-blocks.table.js';

type Executor = Kysely<Database> | Transaction<Database>;

export async function insertAuthFailure(db: Executor, ip: string, at: Date, reason: string): Promise<void> {
  await db.insertInto('auth_failures').values({ ip, failed_at: at, reason }).execute();
}

/** Failures older than the window count for nothing: dropped as new ones arrive, so the table stays small. */
export async function deleteAuthFailuresBefore(db: Executor, before: Date): Promise<void> {
  await db.deleteFrom('auth_failures').where('failed_at', '<', before).execute();
}

export async function countAuthFailuresSince(db: Executor, ip: string, since: Date): Promise<number> {
  const row = await db
    .selectFrom('auth_failures')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('ip', '=', ip)
    .where('failed_at', '>', since)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Blocks `ip` unless a block is already in force (an active block, manual or automatic, is never
 * shortened or replaced). Returns the row when this call blocked the address.
 */
export async function insertAutomaticBlock(
  db: Executor,
  ip: string,
  at: Date,
  until: Date,
): Promise<IpBlockRow | undefined> {
  return db
    .insertInto('ip_blocks')
    .values({ ip, reason: 'brute_force', note: null, blocked_at: at, blocked_until: until, blocked_by: null })
    .onConflict((oc) =>
      oc
        .column('ip')
        .doUpdateSet((eb) => ({
          reason: eb.ref('excluded.reason'),
          note: null,
          blocked_at: eb.ref('excluded.blocked_at'),
          blocked_until: eb.ref('excluded.blocked_until'),
          blocked_by: null,
        }))
        .where('ip_blocks.blocked_until', 'is not', null)
        .where('ip_blocks.blocked_until', '<=', at),
    )
    .returningAll()
    .executeTakeFirst();
}

/** An operator's block replaces whatever was there (it may lengthen, shorten or make it permanent). */
export async function upsertManualBlock(db: Executor, row: IpBlocksTable): Promise<IpBlockRow> {
  return db
    .insertInto('ip_blocks')
    .values(row)
    .onConflict((oc) =>
      oc.column('ip').doUpdateSet({
        reason: row.reason,
        note: row.note,
        blocked_at: row.blocked_at,
        blocked_until: row.blocked_until,
        blocked_by: row.blocked_by,
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deleteBlock(db: Executor, ip: string): Promise<IpBlockRow | undefined> {
  return db.deleteFrom('ip_blocks').where('ip', '=', ip).returningAll().executeTakeFirst();
}

/** Blocks in force at `now`; expired rows stay until the address is blocked again or unblocked. */
export async function listActiveBlocks(db: Executor, now: Date): Promise<IpBlockRow[]> {
  return db
    .selectFrom('ip_blocks')
    .selectAll()
    .where((eb) => eb.or([eb('blocked_until', 'is', null), eb('blocked_until', '>', now)]))
    .orderBy('blocked_at', 'desc')
    .execute();
}
