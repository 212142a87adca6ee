// Build step: a freshly initialised PGlite data directory, dumped to dist/pglite-template.tar.gz.
// PGlite's own initdb takes about 5 s; a first start that loads this template takes about 1.4 s. It is
// made at build time by the installed PGlite, so it always matches the version that will load it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';

// Optional argument: the build folder to write into (the test setup builds into a temporary one).
const out = process.argv[2]
  ? path.join(process.argv[2], 'pglite-template.tar.gz')
  : new URL('../dist/pglite-template.tar.gz', import.meta.url);
const dir = mkdtempSync(path.join(tmpdir(), 'pglite-template-'));
try {
  const pg = await PGlite.create(path.join(dir, 'pgdata'));
  const dump = await pg.dumpDataDir('gzip');
  await pg.close();
  writeFileSync(out, Buffer.from(await dump.arrayBuffer()));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
