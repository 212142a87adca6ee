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
  /** Failed logins since the last success or lockout (PCI DSS 8.3.4). */
  failed_login_count: ColumnType<number, number | undefined, number>;
  locked_until: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** The confirmed TOTP secret, sealed (totp.ts); null until enrolment is confirmed. */
  totp_ciphertext: ColumnType<string | null, string | null | undefined, string | null>;
  /** A secret handed out by enrolment and not yet confirmed with a first code. */
  totp_pending_ciphertext: ColumnType<string | null, string | null | undefined, string | null>;
  totp_enrolled_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** The last TOTP time step accepted: a code for this step or an earlier one is a replay. */
  totp_last_step: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface OperatorSessionsTable {
  id: string;
  token_hash: string;
  operator_id: string;
  created_at: ColumnType<Date, Date, never>;
  last_seen_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  /** Passed the TOTP step (at login or by confirming enrolment in this session). */
  mfa_verified: ColumnType<boolean, boolean | undefined, boolean>;
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
