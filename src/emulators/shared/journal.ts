// Owns an emulator's persistence: one JSON-lines file in the data folder. Changes are coalesced in
// memory and appended every flush interval (an object updated three times in one interval is written
// once), the file is rewritten compactly at start and whenever it has grown well past its live size,
// and loading replays the lines with the last version of each key winning.
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';

export interface JournalOptions {
  flushIntervalMs?: number;
  /** The file is compacted once it is this large and more than twice its size after the last compaction. */
  compactAtBytes?: number;
}

const WRITE_BATCH = 1000;

export class Journal<Entry> {
  private fd: number;
  private readonly dirty = new Map<string, () => Entry>();
  private bytes = 0;
  private compactedBytes = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly compactAtBytes: number;

  /** Reads every entry of an existing journal; a torn last line (a crash mid-write) is skipped. */
  static load<Entry>(file: string): Entry[] {
    if (!existsSync(file)) return [];
    const entries: Entry[] = [];
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        entries.push(JSON.parse(line) as Entry);
      } catch {
        // Only the final line can be torn; anything else unreadable is skipped the same way.
      }
    }
    return entries;
  }

  constructor(
    private readonly file: string,
    private readonly everything: () => Iterable<Entry>,
    options: JournalOptions = {},
  ) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.compactAtBytes = options.compactAtBytes ?? 64 * 1024 * 1024;
    this.fd = this.compact();
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
    if (this.bytes > this.compactAtBytes && this.bytes > 2 * this.compactedBytes) {
      closeSync(this.fd);
      this.fd = this.compact();
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
    fsyncSync(this.fd);
    closeSync(this.fd);
  }

  private append(lines: string[]): void {
    if (lines.length === 0) return;
    const chunk = `${lines.join('\n')}\n`;
    this.bytes += writeSync(this.fd, chunk);
  }

  /** Rewrites the file with the live entries only (write aside, fsync, rename) and opens it for appends. */
  private compact(): number {
    const temporary = `${this.file}.tmp`;
    const fd = openSync(temporary, 'w');
    let lines: string[] = [];
    let bytes = 0;
    for (const entry of this.everything()) {
      lines.push(JSON.stringify(entry));
      if (lines.length >= WRITE_BATCH) {
        bytes += writeSync(fd, `${lines.join('\n')}\n`);
        lines = [];
      }
    }
    if (lines.length > 0) bytes += writeSync(fd, `${lines.join('\n')}\n`);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temporary, this.file);
    this.bytes = bytes;
    this.compactedBytes = bytes;
    this.dirty.clear();
    return openSync(this.file, 'a');
  }
}
