// Runs the longest file first: the 100,000-operation wallet bank test (about 10 minutes here) starts on
// one worker at once while the other works through every other file, instead of starting halfway
// through the run and ending long after the rest (vitest's own order runs the PGlite project's files
// before PostgreSQL's).
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const FIRST = /wallets-bank\.pg\.test\.ts$/;

export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    return [
      ...sorted.filter((f) => FIRST.test(f.moduleId)),
      ...sorted.filter((f) => !FIRST.test(f.moduleId)),
    ];
  }
}
