// Owns `PayPal-Request-Id`: per account and endpoint, the first successful answer is kept 72 hours on
// the emulator clock and replayed byte for byte. A request arriving while the first with its id is
// still executing waits for that one and gets its answer, so exactly one executes. Error answers are
// not kept (the id is freed), so a retry after fixing the request, or after approval, executes.
export const REQUEST_ID_WINDOW_MS = 72 * 60 * 60 * 1000;
const MAX_ID_LENGTH = 108;

export interface SavedAnswer {
  status: number;
  body: string;
}

export interface RequestIdEntry {
  id: string;
  created: number;
  answer: SavedAnswer | null;
}

interface Live extends RequestIdEntry {
  done: Promise<void>;
  finish: () => void;
}

export type Claim =
  | { kind: 'new'; entry: RequestIdEntry }
  | { kind: 'replay'; answer: SavedAnswer }
  | { kind: 'too_long' };

export class RequestIdTable {
  // Insertion order is creation order, so expiry sweeps stop at the first live entry.
  private readonly entries = new Map<string, Live>();
  onSaved: ((entry: RequestIdEntry) => void) | null = null;

  async claim(scope: string, requestId: string, nowMs: () => number): Promise<Claim> {
    if (requestId.length > MAX_ID_LENGTH) return { kind: 'too_long' };
    const id = `${scope} ${requestId}`;
    for (;;) {
      const existing = this.entries.get(id);
      if (existing && nowMs() - existing.created < REQUEST_ID_WINDOW_MS) {
        if (existing.answer) return { kind: 'replay', answer: existing.answer };
        await existing.done;
        continue;
      }
      if (existing) this.entries.delete(id);
      let finish = () => {};
      const done = new Promise<void>((resolve) => {
        finish = resolve;
      });
      const entry: Live = { id, created: nowMs(), answer: null, done, finish };
      this.entries.set(id, entry);
      return { kind: 'new', entry };
    }
  }

  save(entry: RequestIdEntry, answer: SavedAnswer): void {
    const live = entry as Live;
    live.answer = answer;
    live.finish();
    this.onSaved?.({ id: live.id, created: live.created, answer });
  }

  release(entry: RequestIdEntry): void {
    const live = entry as Live;
    if (this.entries.get(live.id) === live) this.entries.delete(live.id);
    live.finish();
  }

  sweep(nowMs: number): void {
    for (const [id, entry] of this.entries) {
      if (nowMs - entry.created < REQUEST_ID_WINDOW_MS) break;
      if (entry.answer) this.entries.delete(id);
    }
  }

  restore(entry: RequestIdEntry, nowMs: number): void {
    if (!entry.answer || nowMs - entry.created >= REQUEST_ID_WINDOW_MS) return;
    this.entries.set(entry.id, { ...entry, done: Promise.resolve(), finish: () => {} });
  }

  size(): number {
    return this.entries.size;
  }

  *saved(): Iterable<RequestIdEntry> {
    for (const entry of this.entries.values()) {
      if (entry.answer) yield { id: entry.id, created: entry.created, answer: entry.answer };
    }
  }
}
