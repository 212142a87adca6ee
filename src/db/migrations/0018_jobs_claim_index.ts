import { type Kysely, sql } from 'kysely';

// A pool's claim asks for due jobs of its own names in (run_at, id) order. With only `jobs_due (run_at)`
// the planner read every due row of every pool and sorted them, so a backlog in one pool (a burst of
// inbound webhooks) made every claim in every pool cost time in proportion to it. This index answers a
// one-name pool's claim by reading the first rows in order, and a several-name pool's from its own rows.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index jobs_claim on jobs (name, run_at, id) where dead_at is null`.execute(db);
}
