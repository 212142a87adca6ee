// Owns an emulator's persistence: one JSON-lines file in the data folder. Changes are coalesced in
// memory and appended every flush interval (an object updated three times in one interval is written
// once), loading replays the lines with the last version of each key winning, and the file is
// rewritten with live entries only at start when many lines are stale. It is not compacted while running: emulator objects are
// rarely updated after their first seconds, so a rewrite would gain little and stall the event loop.
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';

export interface JournalOptions {
  flushIntervalMs?: number;
  /** Rewrite the file with live entries only before appending (when loading found many stale lines). */
  compact?: boolean;
}

const WRITE_BATCH = 1000;
const READ_CHUNK = 1024 * 1024;

export class Journal<Entry> {
  private readonly fd: number;
  private readonly dirty = new Map<string, () => Entry>();
  private readonly timer: NodeJS.Timeout;

  /**
   * Reads every entry of an existing journal, a chunk at a time (the file may be larger than the
   * longest string V8 allows). A torn last line, from a crash mid-write, is skipped.
   */
  static load<Entry>(file: string): Entry[] {
    if (!existsSync(file)) return [];
    const entries: Entry[] = [];
    const parse = (line: string) => {
      if (!line) return;
      try {
        entries.push(JSON.parse(line) as Entry);
      } catch {
        // Only the final line can be torn; anything else unreadable is skipped the same way.
      }
    };
    const fd = openSync(file, 'r');
    const chunk = Buffer.alloc(READ_CHUNK);
    let carry = Buffer.alloc(0);
    try {
      for (;;) {
        const read = readSync(fd, chunk, 0, chunk.length, null);
        if (read === 0) break;
        let data = Buffer.concat([carry, chunk.subarray(0, read)]);
        let newline = data.indexOf(10);
        while (newline >= 0) {
          parse(data.toString('utf8', 0, newline));
          data = data.subarray(newline + 1);
          newline = data.indexOf(10);
        }
        carry = Buffer.from(data);
      }
    } finally {
      closeSync(fd);
    }
    parse(carry.toString('utf8'));
    return entries;
  }

  constructor(
    private readonly file: string,
    private readonly everything: () => Iterable<Entry>,
    options: JournalOptions = {},
  ) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.fd = options.compact === false ? openForAppend(file) : this.compact();
    this.timer = setInterval(() => this.flush(), options.flushIntervalMs ?? 100);
    this.timer.unref();
  }

  /** Records that `key` changed; `entry` is read at the next flush, so only the latest version is written. */
  mark(key: string, entry: () => Entry): void {
    this.dirty.set(key, entry);
  }

  flush(): void {
    if (this.dirty.size === 0) return;
    const lines: string[] = [];
    for (const entry of this.dirty.values()) {
      lines.push(JSON.stringify(entry()));
      if (lines.length >= WRITE_BATCH) this.append(lines.splice(0));
    }
    this.dirty.clear();
    this.append(lines);
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
    fsyncSync(this.fd);
    closeSync(this.fd);
  }

  private append(lines: string[]): void {
    if (lines.length === 0) return;
    writeSync(this.fd, `${lines.join('\n')}\n`);
  }

  /** Rewrites the file with the live entries only (write aside, fsync, rename) and opens it for appends. */
  private compact(): number {
    const temporary = `${this.file}.tmp`;
    const fd = openSync(temporary, 'w');
    let lines: string[] = [];
    for (const entry of this.everything()) {
      lines.push(JSON.stringify(entry));
      if (lines.length >= WRITE_BATCH) {
        writeSync(fd, `${lines.join('\n')}\n`);
        lines = [];
      }
    }
    if (lines.length > 0) writeSync(fd, `${lines.join('\n')}\n`);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temporary, this.file);
    this.dirty.clear();
    return openSync(this.file, 'a');
  }
}

/** Opens for appending; a torn last line gets its newline first so the next entry starts clean. */
function openForAppend(file: string): number {
  const fd = openSync(file, 'a+');
  const { size } = fstatSync(fd);
  if (size > 0) {
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    if (last[0] !== 10) writeSync(fd, '\n');
  }
  return fd;
}
