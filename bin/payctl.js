#!/usr/bin/env node
// Entry point of the built CLI. `npm ci` builds dist/ (the prepare script); if it is missing, for
// example after `npm ci --ignore-scripts`, build it once here rather than fail.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
if (!existsSync(new URL('../dist/src/cli/payctl.js', import.meta.url))) {
  process.stderr.write('payctl: building the service (first run)...\n');
  execFileSync(
    process.execPath,
    [`${root}node_modules/typescript/bin/tsc`, '-p', `${root}tsconfig.build.json`],
    {
      stdio: 'inherit',
    },
  );
}
await import('../dist/src/cli/payctl.js');
