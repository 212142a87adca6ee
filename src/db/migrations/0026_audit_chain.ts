import { type Kysely, sql } from 'kysely';
import { type ChainedContent, chainHash, GENESIS_HASH } from '../../modules/audit/audit-chain.js';

// DESIGN invariant 7: the audit log becomes a hash chain. Rows already present are chained here in
// `seq` order (the append-only trigger is disabled for this transaction's backfill only), then every
// new row is chained by AuditService under the lock on `audit_chain_head`'s single row.
//   - prev_hash: the previous row's hash (GENESIS_HASH for the first row); unique, so the chain cannot
//     fork even if a writer skipped the lock.
//   - hash: sha256 over prev_hash and the row's canonical content (audit-chain.ts).
//   - audit_chain_head: the tail (seq, id, hash); writers lock it, read it and move it in the same
//     transaction as their row, so concurrent writers on every replica append to one chain.
const BATCH = 1000;

type Row = ChainedContent & { seq: number | string };

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table audit_log add column prev_hash text, add column hash text;
    create table audit_chain_head (
      singleton boolean primary key default true check (singleton),
      seq bigint not null,
      id text,
      hash text not null
    );
    alter table audit_log disable trigger audit_log_no_update;
  `.execute(db);

  let prev = GENESIS_HASH;
  let last: { seq: number | string; id: string | null } = { seq: 0, id: null };
  for (;;) {
    const { rows } = await sql<Row>`
      select * from audit_log where seq > ${last.seq} order by seq limit ${BATCH}`.execute(db);
    for (const row of rows) {
      const hash = chainHash(prev, row);
      await sql`update audit_log set prev_hash = ${prev}, hash = ${hash} where seq = ${row.seq}`.execute(db);
      prev = hash;
      last = { seq: row.seq, id: row.id };
    }
    if (rows.length < BATCH) break;
  }

  await sql`
    alter table audit_log enable trigger audit_log_no_update;
    alter table audit_log alter column prev_hash set not null, alter column hash set not null;
    create unique index audit_log_hash on audit_log (hash);
    create unique index audit_log_prev_hash on audit_log (prev_hash);
  `.execute(db);
  await sql`insert into audit_chain_head (seq, id, hash) values (${last.seq}, ${last.id}, ${prev})`.execute(
    db,
  );
}
