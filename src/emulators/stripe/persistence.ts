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
  for (const entry of Journal.load<JournalEntry>(file)) {
    if (entry.t === 'idempotency') idempotency.restore(entry.r as IdempotencyEntry, now);
    else store.restore(entry.r as StoredRecord);
  }
  const persisted = (entry: IdempotencyEntry): JournalEntry => ({
    t: 'idempotency',
    r: { ...entry, response: { status: entry.response!.status, body: bodyOf(entry) } },
  });
  const journal = new Journal<JournalEntry>(file, function* everything() {
    yield* store.entries();
    for (const entry of idempotency.saved()) if (entry.response) yield persisted(entry);
  });
  store.journal = journal;
  idempotency.onSaved = (id, entry) => journal.mark(`idempotency ${id}`, () => persisted(entry));
  return journal;
}
