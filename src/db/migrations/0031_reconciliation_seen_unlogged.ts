import { type Kysely, sql } from 'kysely';

// The seen set is a run's scratch: filled page by page, read by the run's last two queries, deleted when
// the run ends (and a run cut short by a crash is failed and run again). Unlogged, its rows skip the
// write-ahead log, which was most of a page's write time (the 1,000,000-record benchmark in BENCHMARKS.md).
// Number 0030 is left to the dashboard's migration being written beside this one.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table reconciliation_seen set unlogged`.execute(db);
}
