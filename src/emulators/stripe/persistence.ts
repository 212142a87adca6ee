// Owns keeping the emulator's records in the data folder: everything the store holds plus the saved
// idempotent answers still inside their 24-hour window, so a restarted embedded service finds the
// provider's records, and its retries the same replays, where it left them.
import path from 'node:path';
import { Journal } from '../shared/journal.js';
import type { IdempotencyEntry, IdempotencyTable } from './idempotency.js';
import type { StoredRecord } from './records.js';
import type { JournalEntry, StripeStore } from './store.js';

export const JOURNAL_FILE = 'stripe-emulator.jsonl';

export function openPersistence(
  dataDir: string,
  store: StripeStore,
  idempotency: IdempotencyTable,
  /** The saved answer as JSON text, the form it is persisted in. */
  bodyOf: (entry: IdempotencyEntry) => string,
  now: number,
): Journal<JournalEntry> {
  const file = path.join(dataDir, JOURNAL_FILE);
  const lines = Journal.load<JournalEntry>(file);
  for (const entry of lines) {
    if (entry.t === 'idempotency') idempotency.restore(entry.r as IdempotencyEntry, now);
    else store.restore(entry.r as StoredRecord);
  }
  // Rewriting costs as much as loading; it pays only once superseded versions and expired keys pile up.
  const live = store.size() + idempotency.size();
  const compact = lines.length > live + Math.max(1000, live / 4);
  const persisted = (entry: IdempotencyEntry): JournalEntry => ({
    t: 'idempotency',
    r: { ...entry, response: { status: entry.response!.status, body: bodyOf(entry) } },
  });
  const journal = new Journal<JournalEntry>(
    file,
    function* everything() {
      yield* store.entries();
      for (const entry of idempotency.saved()) if (entry.response) yield persisted(entry);
    },
    { compact },
  );
  store.journal = journal;
  idempotency.onSaved = (id, entry) => journal.mark(`idempotency ${id}`, () => persisted(entry));
  return journal;
}
