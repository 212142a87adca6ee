// Once per test run: build the service into a private folder (tests that spawn `payctl` run the built
// artifact, and parallel runs must not overwrite each other's build) and check that the shared
// PostgreSQL answers, so a missing server fails loudly instead of as scattered timeouts.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { ADMIN_DATABASE_URL } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Folder holding the built service; `<distDir>/src/cli/payctl.js` is the CLI. */
    distDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const distDir = mkdtempSync(path.join(tmpdir(), 'payment-service-dist-'));
  const args = ['tsc', '-p', 'tsconfig.build.json', '--outDir', distDir];
  try {
    execFileSync('npx', [...args, '--tsBuildInfoFile', path.join(distDir, '.tsbuildinfo')], {
      stdio: 'pipe',
    });
  } catch {
    // Type errors are reported by `npm run check`, which runs before the tests; tsc still emits the
    // JavaScript, and only a missing CLI makes the process tests impossible.
  }
  // The spawned embedded services then start from the build's PGlite template, as `npm start` does.
  execFileSync(process.execPath, ['scripts/pglite-template.mjs', distDir], { stdio: 'inherit' });
  if (!existsSync(path.join(distDir, 'src', 'cli', 'payctl.js'))) {
    throw new Error(
      'the build did not produce src/cli/payctl.js; run `npx tsc -p tsconfig.build.json` to see why',
    );
  }
  // Node resolves the built CLI's packages by walking up from the file: give the folder the project's.
  symlinkSync(path.resolve('node_modules'), path.join(distDir, 'node_modules'), 'dir');
  // In-process services on PGlite start from this migrated copy (test/support/service.ts).
  execFileSync(process.execPath, ['scripts/pglite-migrated-template.mjs', distDir], { stdio: 'inherit' });
  project.provide('distDir', distDir);
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
  return () => rmSync(distDir, { recursive: true, force: true });
}
