// Runs the forward-only migrations: at every start and through `payctl migrate`. Kysely's migrator
// takes a lock so that replicas starting together apply each migration once.
import { type Kysely, Migrator } from 'kysely';
import { migrations } from './migrations/index.js';
import type { Database } from './schema.js';

export interface MigrationOutcome {
  applied: string[];
}

/** Errors from two processes creating the migrator's own tables at the same moment on a fresh database. */
const CONCURRENT_CREATION = new Set(['23505', '42P07', '42710']);
const ATTEMPTS = 3;

export async function migrateToLatest(db: Kysely<Database>): Promise<MigrationOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateOnce(db);
    } catch (error) {
      // Kysely rechecks after a failed CREATE TABLE IF NOT EXISTS, but the other process's table may not
      // be committed yet at that instant. Every migration is transactional, so trying again is safe.
      const code = ((error as { cause?: { code?: string } }).cause ?? (error as { code?: string }))?.code;
      if (attempt >= ATTEMPTS || !code || !CONCURRENT_CREATION.has(code)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

async function migrateOnce(db: Kysely<Database>): Promise<MigrationOutcome> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`migration ${failed ?? '(unknown)'} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}
