// Owns keeping the emulator's records in the data folder: everything the store holds plus the saved
// PayPal-Request-Id answers still inside their 72-hour window, in `paypal-emulator.jsonl` through the
// shared journal, so a restarted embedded service finds orders and replays where it left them.
import path from 'node:path';
import { Journal } from '../shared/journal.js';
import type { RequestIdEntry, RequestIdTable } from './idempotency.js';
import type { StoredRecord } from './records.js';
import type { JournalEntry, PayPalStore } from './store.js';

export const JOURNAL_FILE = 'paypal-emulator.jsonl';

export function openPersistence(
  dataDir: string,
  store: PayPalStore,
  idempotency: RequestIdTable,
  nowMs: number,
): Journal<JournalEntry> {
  const file = path.join(dataDir, JOURNAL_FILE);
  const lines = Journal.load<JournalEntry>(file);
  for (const entry of lines) {
    if (entry.t === 'idempotency') idempotency.restore(entry.r as RequestIdEntry, nowMs);
    else store.restore(entry.r as StoredRecord);
  }
  // Rewriting costs as much as loading; it pays only once superseded versions and expired ids pile up.
  const live = store.size() + idempotency.size();
  const compact = lines.length > live + Math.max(1000, live / 4);
  const journal = new Journal<JournalEntry>(
    file,
    function* everything() {
      yield* store.entries();
      for (const entry of idempotency.saved()) yield { t: 'idempotency', r: entry };
    },
    { compact },
  );
  store.journal = journal;
  idempotency.onSaved = (entry) =>
    journal.mark(`idempotency ${entry.id}`, () => ({ t: 'idempotency', r: entry }));
  return journal;
}
