// Owns the PayPal emulator's state: one map per record kind for O(1) reads by id, creation order kept
// by the maps themselves, events written as state changes, and the journal that keeps it all across
// restarts when a data folder is given.
import type { Journal } from '../shared/journal.js';
import { randomToken } from '../shared/random-id.js';
import { notFound } from './errors.js';
import { RECORD_KINDS, type RecordKind, type RecordOf, type StoredRecord } from './records.js';

export type JournalEntry = { t: RecordKind; r: StoredRecord } | { t: 'idempotency'; r: unknown };

type Maps = { [K in RecordKind]: Map<string, RecordOf<K>> };

/** PayPal's ids: 17 upper-case letters and digits (orders, captures, authorizations, refunds). */
export function paypalId(): string {
  return randomToken(17).toUpperCase();
}

export class PayPalStore {
  private readonly maps = Object.fromEntries(RECORD_KINDS.map((kind) => [kind, new Map()])) as Maps;
  journal: Journal<JournalEntry> | null = null;

  get<K extends RecordKind>(kind: K, id: string): RecordOf<K> | undefined {
    return this.maps[kind].get(id) as RecordOf<K> | undefined;
  }

  /** The record if it belongs to `account`; otherwise PayPal's 404, as if it did not exist. */
  owned<K extends RecordKind>(kind: K, account: string, id: string): RecordOf<K> {
    const record = this.get(kind, id);
    if (!record || record.account !== account) throw notFound();
    return record;
  }

  insert<R extends StoredRecord>(record: R): R {
    (this.maps[record.kind] as Map<string, StoredRecord>).set(record.id, record);
    this.mark(record);
    return record;
  }

  update<R extends StoredRecord>(record: R, changes: Partial<R>): R {
    return this.insert({ ...record, ...changes });
  }

  all<K extends RecordKind>(kind: K): IterableIterator<RecordOf<K>> {
    return this.maps[kind].values() as IterableIterator<RecordOf<K>>;
  }

  count(kind: RecordKind): number {
    return this.maps[kind].size;
  }

  size(): number {
    let total = 0;
    for (const kind of RECORD_KINDS) total += this.maps[kind].size;
    return total;
  }

  restore(record: StoredRecord): void {
    (this.maps[record.kind] as Map<string, StoredRecord>).set(record.id, record);
  }

  *entries(): Iterable<JournalEntry> {
    for (const kind of RECORD_KINDS)
      for (const record of this.maps[kind].values()) yield { t: kind, r: record };
  }

  private mark(record: StoredRecord): void {
    this.journal?.mark(`${record.kind} ${record.id}`, () => ({
      t: record.kind,
      r: this.get(record.kind, record.id)!,
    }));
  }
}

/** PayPal writes times as ISO 8601 in UTC without fractions of a second. */
export function isoTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
