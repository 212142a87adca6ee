// The group-commit batcher behind the inbound webhook inbox: calls made while others are in flight share
// one run, outputs go back to their own callers, at most `concurrency` runs are in flight, and a run
// that fails is retried input by input so that only the input at fault fails.
import { describe, expect, it } from 'vitest';
import { Batcher } from '../src/db/batcher.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('Batcher', () => {
  it('runs an idle call alone, coalesces the calls that arrive meanwhile, and answers each its own', async () => {
    const runs: number[][] = [];
    let inFlight = 0;
    let most = 0;
    const batcher = new Batcher<number, number>(
      async (inputs) => {
        runs.push(inputs);
        inFlight++;
        most = Math.max(most, inFlight);
        await tick();
        inFlight--;
        return inputs.map((n) => n * 10);
      },
      { maxBatch: 4, concurrency: 2 },
    );
    const outputs = await Promise.all(Array.from({ length: 12 }, (_, n) => batcher.submit(n)));
    expect(outputs).toEqual(Array.from({ length: 12 }, (_, n) => n * 10));
    expect(runs[0]).toEqual([0]);
    expect(runs[1]).toEqual([1]);
    expect(runs.slice(2).every((inputs) => inputs.length > 1 && inputs.length <= 4)).toBe(true);
    expect(runs.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, n) => n));
    expect(most).toBe(2);
  });

  it('retries a failed run input by input, so only the bad input fails', async () => {
    const runs: string[][] = [];
    const batcher = new Batcher<string, string>(
      async (inputs) => {
        runs.push(inputs);
        await tick();
        if (inputs.includes('bad')) throw new Error('refused');
        return inputs.map((input) => input.toUpperCase());
      },
      { maxBatch: 10, concurrency: 1 },
    );
    const results = await Promise.allSettled(
      ['first', 'a', 'bad', 'b'].map((input) => batcher.submit(input)),
    );
    expect(results.map((result) => (result.status === 'fulfilled' ? result.value : 'rejected'))).toEqual([
      'FIRST',
      'A',
      'rejected',
      'B',
    ]);
    // 'first' alone, then the other three together, then each of those alone.
    expect(runs[0]).toEqual(['first']);
    expect(runs[1]).toEqual(['a', 'bad', 'b']);
    expect(runs.slice(2).map((inputs) => inputs.join())).toEqual(['a', 'bad', 'b']);
  });
});
