// API keys: secret (sk_), restricted (rk_, with scopes) and publishable (pk_), each bound to one merchant
// and one mode. The key is shown once; only its SHA-256 is stored.
import { z } from 'zod';
import type { KeyKind } from './keys.table.js';

export const KEY_PREFIX: Record<KeyKind, string> = { secret: 'sk', restricted: 'rk', publishable: 'pk' };

/** Scopes a restricted key may carry: `<resource>:read` or `<resource>:write` (write implies read). */
export const SCOPE_RESOURCES = [
  'customers',
  'payment_methods',
  'payment_intents',
  'charges',
  'refunds',
  'disputes',
  'files',
  'reviews',
  'balance',
  'events',
  'webhook_endpoints',
  'wallets',
] as const;

export const scopeSchema = z
  .string()
  .refine((scope) => SCOPE_RESOURCES.some((r) => scope === `${r}:read` || scope === `${r}:write`), {
    message: `must be <resource>:read or <resource>:write with resource one of ${SCOPE_RESOURCES.join(', ')}`,
  });

export interface CreateKeyInput {
  kind: KeyKind;
  livemode: boolean;
  name?: string | undefined;
  scopes?: string[] | undefined;
  expiresAt?: Date | undefined;
}

export interface ApiKeyView {
  id: string;
  object: 'api_key';
  kind: KeyKind;
  livemode: boolean;
  name: string | null;
  redacted: string;
  scopes: string[] | null;
  created: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
  /** Whole days since creation, for runbook 003's 90-day rotation. */
  age_days: number;
  /** The key a rotation issued in this one's place. */
  replaced_by: string | null;
}

export function keyModeOf(secret: string): { kind: KeyKind; livemode: boolean } | undefined {
  const match = /^(sk|rk|pk)_(test|live)_[A-Za-z0-9]+$/.exec(secret);
  if (!match) return undefined;
  const kind = (Object.keys(KEY_PREFIX) as KeyKind[]).find((k) => KEY_PREFIX[k] === match[1]);
  return kind ? { kind, livemode: match[2] === 'live' } : undefined;
}
