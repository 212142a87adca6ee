import { type Kysely, sql } from 'kysely';

// The row trigger of 0002 refuses UPDATE and DELETE; TRUNCATE skips row triggers, so it needs its own.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create trigger audit_log_no_truncate before truncate on audit_log
      for each statement execute function audit_log_append_only();
  `.execute(db);
}
