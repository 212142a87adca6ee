// Runbook 003's brute-force rule: more than 5 failed logins within 5 minutes from one address blocks
// that address for an hour. The failures are the audit log's own rows, so the block holds across
// replicas and survives a Redis flush (DESIGN section 2) without a table of its own.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { listFailedLoginTimes } from '../audit/audit.repository.js';

export const LOGIN_FAILURES_ALLOWED = 5;
export const LOGIN_FAILURE_WINDOW_MS = 5 * 60_000;
export const LOGIN_BLOCK_MS = 60 * 60_000;

/** The end of the block on `ip` at `now`, or undefined when it may try to log in. */
export async function loginBlockedUntil(
  db: Kysely<Database>,
  ip: string,
  now: Date,
): Promise<Date | undefined> {
  const since = new Date(now.getTime() - LOGIN_BLOCK_MS - LOGIN_FAILURE_WINDOW_MS);
  const times = (await listFailedLoginTimes(db, ip, since)).map((time) => time.getTime());
  let until: number | undefined;
  for (let i = LOGIN_FAILURES_ALLOWED; i < times.length; i++) {
    const last = times[i] as number;
    const first = times[i - LOGIN_FAILURES_ALLOWED] as number;
    if (last - first <= LOGIN_FAILURE_WINDOW_MS) until = last + LOGIN_BLOCK_MS;
  }
  return until !== undefined && until > now.getTime() ? new Date(until) : undefined;
}
