import { type Kysely, sql } from 'kysely';

// Issue 9's account controls. Operators: the per-account lockout (PCI DSS 8.3.4), the TOTP second
// factor (its secret AES-256-GCM sealed, a pending secret until the first code confirms it, the last
// time step used so a code cannot be replayed) and a case-insensitive unique email. Sessions remember
// whether they passed the second factor. API keys remember the key that replaced them, so a bulk
// rotation never rotates one key twice.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table operators
      add column failed_login_count integer not null default 0,
      add column locked_until timestamptz,
      add column totp_ciphertext text,
      add column totp_pending_ciphertext text,
      add column totp_enrolled_at timestamptz,
      add column totp_last_step integer;
    create unique index operators_email_ci on operators (lower(email));
    alter table operator_sessions add column mfa_verified boolean not null default false;
    alter table api_keys add column replaced_by text;
  `.execute(db);
}
