import type { ColumnType, Generated, Selectable } from 'kysely';

export type IpBlockReason = 'brute_force' | 'manual';

/** A blocked client address; no row (or a past `blocked_until`) means not blocked. */
export interface IpBlocksTable {
  ip: string;
  reason: IpBlockReason;
  note: string | null;
  blocked_at: Date;
  /** Null: blocked until an operator unblocks it. */
  blocked_until: Date | null;
  /** The operator or CLI user of a manual block; null for automatic ones. */
  blocked_by: string | null;
}

/** One failed authentication (an unknown API key, a wrong password, an unknown operator token). */
export interface AuthFailuresTable {
  id: Generated<string>;
  ip: string;
  failed_at: ColumnType<Date, Date, never>;
  reason: string;
}

export type IpBlockRow = Selectable<IpBlocksTable>;
