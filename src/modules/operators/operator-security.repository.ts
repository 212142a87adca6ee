// SQL for the account controls of issue 9: lockout counters, the TOTP columns, inactivity and the
// access review's facts. Each counter and replay check is one conditional UPDATE, so two replicas
// answering logins for one account at once cannot both pass.
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

/** Counts a failed login; the `threshold`th failure locks the account until `lockEnd` and restarts the count. */
export async function countFailedLogin(db: Executor, id: string, threshold: number, lockEnd: Date) {
  return db
    .updateTable('operators')
    .set({
      failed_login_count: sql`case when failed_login_count + 1 >= ${threshold} then 0 else failed_login_count + 1 end`,
      locked_until: sql`case when failed_login_count + 1 >= ${threshold} then ${lockEnd}::timestamptz else locked_until end`,
    })
    .where('id', '=', id)
    .returning(['failed_login_count', 'locked_until'])
    .executeTakeFirst();
}

export async function recordSuccessfulLogin(db: Executor, id: string, at: Date) {
  await db
    .updateTable('operators')
    .set({ last_login_at: at, failed_login_count: 0, locked_until: null })
    .where('id', '=', id)
    .execute();
}

export async function clearLockout(db: Executor, id: string) {
  return db
    .updateTable('operators')
    .set({ failed_login_count: 0, locked_until: null })
    .where('id', '=', id)
    .returning(['id'])
    .executeTakeFirst();
}

/** Takes TOTP step `step` for the operator unless it (or a later one) was already used: replay protection. */
export async function claimTotpStep(db: Executor, id: string, step: number): Promise<boolean> {
  const row = await db
    .updateTable('operators')
    .set({ totp_last_step: step })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

export async function setPendingTotp(db: Executor, id: string, ciphertext: string) {
  await db
    .updateTable('operators')
    .set({ totp_pending_ciphertext: ciphertext })
    .where('id', '=', id)
    .execute();
}

export async function confirmTotp(db: Executor, id: string, at: Date, step: number) {
  return db
    .updateTable('operators')
    .set({
      totp_ciphertext: sql`totp_pending_ciphertext`,
      totp_pending_ciphertext: null,
      totp_enrolled_at: at,
      totp_last_step: step,
    })
    .where('id', '=', id)
    .where('totp_pending_ciphertext', 'is not', null)
    .where('totp_ciphertext', 'is', null)
    .returning('id')
    .executeTakeFirst();
}

export async function clearTotp(db: Executor, id: string) {
  return db
    .updateTable('operators')
    .set({
      totp_ciphertext: null,
      totp_pending_ciphertext: null,
      totp_enrolled_at: null,
      totp_last_step: null,
    })
    .where('id', '=', id)
    .returning('id')
    .executeTakeFirst();
}

export async function markSessionMfaVerified(db: Executor, sessionId: string) {
  await db.updateTable('operator_sessions').set({ mfa_verified: true }).where('id', '=', sessionId).execute();
}

/** The last time the operator did anything: created, logged in, or used one of their API tokens. */
const lastActivity = sql<Date>`greatest(
  operators.created_at,
  coalesce(operators.last_login_at, operators.created_at),
  coalesce((select max(t.last_used_at) from operator_tokens t where t.operator_id = operators.id), operators.created_at)
)`;

export async function findLastActivity(db: Executor, id: string): Promise<Date | undefined> {
  const row = await db
    .selectFrom('operators')
    .select(lastActivity.as('last_activity_at'))
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? new Date(row.last_activity_at) : undefined;
}

/** Disables every enabled operator (or only `onlyId`) whose last activity is before `cutoff`. */
export async function disableInactive(db: Executor, cutoff: Date, at: Date, onlyId?: string) {
  let query = db
    .updateTable('operators')
    .set({ disabled_at: at })
    .where('disabled_at', 'is', null)
    .where(lastActivity, '<', cutoff);
  if (onlyId) query = query.where('id', '=', onlyId);
  return query.returning(['id', 'role']).execute();
}

/** Everything the access review reports per operator. */
export async function listAccessFacts(db: Executor) {
  const rows = await db
    .selectFrom('operators')
    .select([
      'id',
      'email',
      'role',
      'created_at',
      'last_login_at',
      'disabled_at',
      'locked_until',
      'totp_enrolled_at',
      lastActivity.as('last_activity_at'),
      sql<number>`(select count(*) from operator_tokens t where t.operator_id = operators.id and t.revoked_at is null)::int`.as(
        'active_tokens',
      ),
    ])
    .orderBy('created_at', 'asc')
    .execute();
  return rows.map((row) => ({ ...row, last_activity_at: new Date(row.last_activity_at) }));
}
