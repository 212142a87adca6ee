// Operators are the people (and their tools) on the admin side: roles and permissions from runbook 003,
// password hashing with scrypt, and the shapes the admin API returns.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { z } from 'zod';
import { unixSeconds } from '../../clock.js';
import type { OperatorRole, OperatorRow } from './operators.table.js';

export const PERMISSIONS = [
  'payment:read',
  'payment:write',
  'payment:refund',
  'payment:configure',
  /** Incident controls: force a provider circuit, flip the run-time switches. */
  'provider:operate',
  /** Outbound webhooks: replay deliveries, send sample events. */
  'webhook:operate',
  'audit:read',
  /** GDPR: export everything held about a customer (runbook 003's data-export). */
  'privacy:export',
  /** GDPR: erase a customer's personal data (runbook 003's data-erasure); irreversible. */
  'privacy:erase',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Runbook 003, "Role-Based Access Control". */
export const ROLE_PERMISSIONS: Record<OperatorRole, readonly Permission[]> = {
  'payment-admin': [
    'payment:read',
    'payment:write',
    'payment:refund',
    'payment:configure',
    'provider:operate',
    'webhook:operate',
    'audit:read',
    'privacy:export',
    'privacy:erase',
  ],
  // A subject access request is routine support work and only reads; erasure cannot be undone, so it
  // stays with admins. Viewers get neither: an export is the customer's personal data in bulk.
  'payment-operator': [
    'payment:read',
    'payment:refund',
    'provider:operate',
    'webhook:operate',
    'audit:read',
    'privacy:export',
  ],
  'payment-viewer': ['payment:read', 'audit:read'],
};

export const roleSchema = z.enum(['payment-admin', 'payment-operator', 'payment-viewer']);

export const MIN_PASSWORD_LENGTH = 12;
export const passwordSchema = z
  .string()
  .min(MIN_PASSWORD_LENGTH, { message: `must be at least ${MIN_PASSWORD_LENGTH} characters` })
  .max(256, { message: 'must be at most 256 characters' });

export const emailSchema = z
  .string()
  .max(320)
  .regex(/^[^@\s]+@[^@\s]+$/, { message: 'must be an email address' })
  .transform((value) => value.trim().toLowerCase());

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: object,
) => Promise<Buffer>;
const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A hash to compare against when the email is unknown, so timing does not reveal which emails exist. */
export const DUMMY_PASSWORD_HASH =
  'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

export function toOperatorObject(row: OperatorRow) {
  return {
    id: row.id,
    object: 'operator' as const,
    email: row.email,
    role: row.role,
    permissions: ROLE_PERMISSIONS[row.role],
    created: unixSeconds(row.created_at),
    last_login_at: row.last_login_at ? unixSeconds(row.last_login_at) : null,
    disabled: row.disabled_at !== null,
    mfa_enrolled: row.totp_enrolled_at !== null,
  };
}
