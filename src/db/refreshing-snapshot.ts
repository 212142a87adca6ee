// A value read from the database that every replica keeps in memory and re-reads once it is older than
// its time to live (age by performance.now(), not business time), so a change made on one replica is
// obeyed by every replica within about that long. Concurrent readers share one read; a reader that has
// just written asks for a read that starts after its write; an unreadable database leaves the last
// known value in force (payments keep flowing on the controls they had).
export interface RefreshingSnapshotOptions<T> {
  initial: T;
  ttlMs: number;
  read(): Promise<T>;
  /** Told of a failed read; the last known value stays. */
  onReadError(error: unknown): void;
}

export class RefreshingSnapshot<T> {
  private value: T;
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private refreshing: Promise<T> | undefined;

  constructor(private readonly options: RefreshingSnapshotOptions<T>) {
    this.value = options.initial;
  }

  private get fresh(): boolean {
    return performance.now() - this.fetchedAt < this.options.ttlMs;
  }

  /** The value, read again first when it is older than the time to live. */
  async get(): Promise<T> {
    return this.fresh ? this.value : this.refresh();
  }

  /** The value as held, without waiting; a stale one starts a read for the next caller. */
  peek(): T {
    if (!this.fresh) void this.refresh();
    return this.value;
  }

  /** A read that starts after the caller's own write (a read in flight may predate it). */
  async reload(): Promise<T> {
    await this.refreshing;
    return this.refresh();
  }

  /** One read at a time; concurrent callers share it. */
  private refresh(): Promise<T> {
    this.refreshing ??= this.load().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async load(): Promise<T> {
    try {
      this.value = await this.options.read();
    } catch (error) {
      this.options.onReadError(error);
    }
    this.fetchedAt = performance.now();
    return this.value;
  }
}
