import type { ColumnType, Selectable } from 'kysely';

export type OperatorRole = 'payment-admin' | 'payment-operator' | 'payment-viewer';

export interface OperatorsTable {
  id: string;
  email: string;
  password_hash: string;
  role: OperatorRole;
  created_at: ColumnType<Date, Date, never>;
  last_login_at: Date | null;
  disabled_at: Date | null;
}

export interface OperatorSessionsTable {
  id: string;
  token_hash: string;
  operator_id: string;
  created_at: ColumnType<Date, Date, never>;
  last_seen_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}

export interface OperatorTokensTable {
  id: string;
  token_hash: string;
  operator_id: string;
  name: string;
  created_at: ColumnType<Date, Date, never>;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export type OperatorRow = Selectable<OperatorsTable>;
