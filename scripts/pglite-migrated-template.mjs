// Test runs only: the build's PGlite template with every migration applied, dumped to
// <distDir>/pglite-migrated.tar.gz. Each test file's in-memory database starts from it instead of
// PGlite's initdb and 30-odd migrations (about 10 s of CPU per file on two cores). The service still runs
// its migrator on start, which finds nothing to apply, so a template behind the code is caught there.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { Kysely } from 'kysely';

const distDir = process.argv[2];
if (!distDir) throw new Error('usage: node scripts/pglite-migrated-template.mjs <distDir>');
const load = (file) => import(pathToFileURL(path.join(distDir, file)).href);
const { PgliteDialect } = await load('src/db/pglite-dialect.js');
const { migrateToLatest } = await load('src/db/migrate.js');

const pg = await PGlite.create('memory://', {
  loadDataDir: new Blob([readFileSync(path.join(distDir, 'pglite-template.tar.gz'))]),
});
const db = new Kysely({ dialect: new PgliteDialect(pg) });
await migrateToLatest(db);
const dump = await pg.dumpDataDir('gzip');
await pg.close();
writeFileSync(path.join(distDir, 'pglite-migrated.tar.gz'), Buffer.from(await dump.arrayBuffer()));
