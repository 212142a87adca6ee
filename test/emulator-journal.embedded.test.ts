// The emulators' journal file: coalesced appends, loading across read-chunk boundaries, and a torn
// last line (a crash mid-write) that neither breaks loading nor swallows the next entry.
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal } from '../src/emulators/shared/journal.js';
import { tempDataDir } from './emulator-support.js';

interface Entry {
  id: string;
  version: number;
  padding: string;
}

describe('journal', () => {
  it('writes the latest version once per flush and loads files larger than one read chunk', () => {
    const file = path.join(tempDataDir(), 'journal.jsonl');
    const live = new Map<string, Entry>();
    const journal = new Journal<Entry>(file, () => live.values(), { compact: false });
    for (let i = 0; i < 3000; i++) {
      const entry = { id: `e${i}`, version: 1, padding: 'x'.repeat(500 + (i % 7)) };
      live.set(entry.id, entry);
      journal.mark(entry.id, () => live.get(entry.id)!);
      live.set(entry.id, { ...entry, version: 2 });
    }
    journal.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(3000);
    const loaded = Journal.load<Entry>(file);
    expect(loaded).toHaveLength(3000);
    expect(loaded.every((entry) => entry.version === 2)).toBe(true);
    expect(loaded[2999]!.id).toBe('e2999');
  });

  it('skips a torn last line and keeps the entries appended after it', () => {
    const file = path.join(tempDataDir(), 'journal.jsonl');
    const first = new Journal<Entry>(file, () => [], { compact: false });
    first.mark('a', () => ({ id: 'a', version: 1, padding: '' }));
    first.close();
    appendFileSync(file, '{"id":"torn","vers');
    const second = new Journal<Entry>(file, () => [], { compact: false });
    second.mark('b', () => ({ id: 'b', version: 1, padding: '' }));
    second.close();
    expect(Journal.load<Entry>(file).map((entry) => entry.id)).toEqual(['a', 'b']);
  });

  it('compacting rewrites the file with the live entries only', () => {
    const file = path.join(tempDataDir(), 'journal.jsonl');
    appendFileSync(file, '{"id":"old","version":1,"padding":""}\n{"id":"old","version":2,"padding":""}\n');
    const journal = new Journal<Entry>(file, () => [{ id: 'old', version: 2, padding: '' }]);
    journal.close();
    expect(Journal.load<Entry>(file)).toEqual([{ id: 'old', version: 2, padding: '' }]);
  });
});
