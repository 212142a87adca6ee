// The audit log's hash chain (DESIGN invariant 7): each row's hash covers the previous row's hash and
// the row's canonical content, so editing, deleting or reordering a row breaks the chain at that row.
// The canonical form is part of every stored hash: never change it in place. A new form needs a new
// version tag (and a migration that re-chains or marks where the new form starts).
import { createHash } from 'node:crypto';

/** The `prev_hash` of the first row. */
export const GENESIS_HASH = '0'.repeat(64);

const FORM = 'audit-chain-v1';

/** What a row's hash covers: every column but `seq` (its place is covered by `prev_hash`) and the hashes. */
export interface ChainedContent {
  id: string;
  occurred_at: Date;
  actor_type: string;
  actor_id: string | null;
  action: string;
  resource_type: string | null;
  resource_id: string | null;
  outcome: string;
  origin: string | null;
  user_agent: string | null;
  request_id: string | null;
  old_value: unknown;
  new_value: unknown;
}

export function chainHash(prevHash: string, row: ChainedContent): string {
  const content = canonicalJson([
    FORM,
    prevHash,
    row.id,
    row.occurred_at.toISOString(),
    row.actor_type,
    row.actor_id,
    row.action,
    row.resource_type,
    row.resource_id,
    row.outcome,
    row.origin,
    row.user_agent,
    row.request_id,
    row.old_value ?? null,
    row.new_value ?? null,
  ]);
  return createHash('sha256').update(content).digest('hex');
}

/**
 * JSON with object keys sorted at every level. A value reads back from jsonb with its keys in jsonb's
 * order, not the writer's, so the hash must not depend on key order. Hand-written rather than a
 * library: an upgrade that changed the output by one byte would make every stored hash fail.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A value as it will read back from jsonb: what JSON keeps of it (dates as strings, no undefined). */
export function asStoredJson(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}
