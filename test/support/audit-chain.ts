// Helpers for the audit chain tests: tampering as a database superuser would (the append-only trigger
// switched off for one transaction), and the verification report's shape.
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../../src/db/schema.js';
import type { AuditChainReport } from '../../src/modules/audit/audit-chain.verify.js';

export type { AuditChainReport };

/** Runs `change` with triggers off (`session_replication_role = replica`, superuser only). */
export async function asSuperuser(
  db: Kysely<Database>,
  change: (trx: Transaction<Database>) => Promise<unknown>,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`set local session_replication_role = replica`.execute(trx);
    await change(trx);
  });
}

export async function chainRows(db: Kysely<Database> | Transaction<Database>) {
  return db
    .selectFrom('audit_log')
    .select(['seq', 'id', 'prev_hash', 'hash', 'action'])
    .orderBy('seq')
    .execute();
}
