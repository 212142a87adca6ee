// Every suite runs twice: on PGlite (the embedded default) and on PostgreSQL. Files named *.pg.test.ts
// are concurrency, multi-process or restart tests and run on PostgreSQL only; *.embedded.test.ts are
// about the embedded mode itself and run on PGlite only.
import { defineConfig } from 'vitest/config';
import { LongestFirstSequencer } from './test/support/sequencer.js';

export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    // Two workers on two cores: most suites wait on sockets, and the long PostgreSQL bank test should
    // not hold the rest of the run behind it.
    maxWorkers: 2,
    sequence: { sequencer: LongestFirstSequencer },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'pglite',
          env: { TEST_DB: 'pglite' },
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.pg.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          env: { TEST_DB: 'postgres' },
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.embedded.test.ts'],
        },
      },
    ],
  },
});
