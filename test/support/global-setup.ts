// Once per test run: build dist/ (tests that spawn `payctl` run the built artifact) and make sure the
// shared PostgreSQL answers, so a missing server fails loudly instead of as 200 scattered timeouts.
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { ADMIN_DATABASE_URL } from './postgres.js';

export default async function setup(): Promise<void> {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${ADMIN_DATABASE_URL} (${(error as Error).message}). ` +
        'Start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
    );
  } finally {
    await client.end().catch(() => {});
  }
}
