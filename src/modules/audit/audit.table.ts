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
}

export type AuditRow = Selectable<AuditLogTable>;
