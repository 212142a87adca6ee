import type { ColumnType, Generated, Selectable } from 'kysely';

type Json<T> = ColumnType<T, string | null, never>;

export type AuditOutcome = 'success' | 'failure' | 'denied';

/** One operator action. Append-only (enforced by a trigger); personal data only by reference. */
export interface AuditLogTable {
  seq: Generated<number>;
  id: string;
  occurred_at: ColumnType<Date, Date, never>;
  actor_type: 'operator' | 'cli' | 'system';
  actor_id: string | null;
  action: string;
  resource_type: string | null;
  resource_id: string | null;
  outcome: AuditOutcome;
  origin: string | null;
  user_agent: string | null;
  request_id: string | null;
  old_value: Json<unknown>;
  new_value: Json<unknown>;
  /** The previous row's `hash` (GENESIS_HASH for the first row): the chain link (audit-chain.ts). */
  prev_hash: string;
  /** sha256 over `prev_hash` and this row's canonical content. */
  hash: string;
}

export type AuditRow = Selectable<AuditLogTable>;

/** The chain's tail, one row: writers lock it to append, so every replica extends one chain. */
export interface AuditChainHeadTable {
  singleton: Generated<boolean>;
  seq: number;
  id: string | null;
  hash: string;
}
