// Group commit for one kind of write: calls that arrive while earlier ones are in flight are coalesced
// into one statement, so a burst of small writes costs a few round trips instead of one each. An idle
// batcher runs a call at once (no added latency); at most `concurrency` statements are in flight, each
// for at most `maxBatch` inputs, so it never takes more than that many pool connections.

export interface BatcherOptions {
  maxBatch: number;
  concurrency: number;
}

interface Waiting<I, O> {
  input: I;
  resolve(output: O): void;
  reject(error: unknown): void;
}

export class Batcher<I, O> {
  private queue: Waiting<I, O>[] = [];
  private inFlight = 0;

  /** `run` returns one output per input, in the inputs' order, all committed together or not at all. */
  constructor(
    private readonly run: (inputs: I[]) => Promise<O[]>,
    private readonly options: BatcherOptions,
  ) {}

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    while (this.inFlight < this.options.concurrency && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.inFlight++;
      this.flush(batch).finally(() => {
        this.inFlight--;
        this.drain();
      });
    }
  }

  private async flush(batch: Waiting<I, O>[]): Promise<void> {
    try {
      const outputs = await this.run(batch.map((waiting) => waiting.input));
      if (outputs.length !== batch.length)
        throw new Error(`batch of ${batch.length} returned ${outputs.length} results`);
      for (const [i, waiting] of batch.entries()) waiting.resolve(outputs[i] as O);
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
      // Nothing of the batch was written: each input alone, so one the database refuses (a value it
      // cannot store) fails only its own caller.
      await Promise.all(batch.map((waiting) => this.flush([waiting])));
    }
  }
}
