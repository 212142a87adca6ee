// Owns the emulator's state: one map per object type for O(1) reads by id, one creation-ordered id list
// per account and type for listing, events written as state changes, and the journal that keeps it all
// across restarts when a data folder is given.

import type { Journal } from '../shared/journal.js';
import { randomId } from '../shared/random-id.js';
import { resourceMissing } from './errors.js';
import {
  type EventRecord,
  ID_PREFIX,
  OBJECT_TYPES,
  type ObjectType,
  type RecordOf,
  type StoredRecord,
} from './records.js';

export interface RequestInfo {
  id: string | null;
  idempotency_key: string | null;
}

/** What every state change needs to know about the request (or timer) that causes it. */
export interface Ctx {
  account: string;
  now: number;
  request: RequestInfo;
  apiVersion: string;
}

export type JournalEntry = { t: ObjectType; r: StoredRecord } | { t: 'idempotency'; r: unknown };

/** Record fields that exist for the emulator's own bookkeeping and never appear on the wire. */
const INTERNAL_FIELDS = new Set([
  'account',
  'scenario',
  'extra',
  'return_url',
  'three_ds_token',
  'three_ds_passed',
  'refund_ids',
  'balance_transaction_ids',
  'card',
  'brand',
  'dispute',
  'fails_at',
]);

const LABEL: Record<ObjectType, string> = {
  payment_method: 'PaymentMethod',
  payment_intent: 'payment_intent',
  charge: 'charge',
  refund: 'refund',
  dispute: 'dispute',
  balance_transaction: 'balance transaction',
  file: 'file upload',
  event: 'event',
};

type Maps = { [T in ObjectType]: Map<string, RecordOf<T>> };

export class StripeStore {
  private readonly maps = Object.fromEntries(OBJECT_TYPES.map((type) => [type, new Map()])) as Maps;
  private readonly lists = new Map<string, string[]>();
  private readonly accountIds = new Set<string>();
  /** Called once per event, after the change it describes is stored. */
  onEvent: ((event: EventRecord) => void) | null = null;
  journal: Journal<JournalEntry> | null = null;

  newId(type: ObjectType): string {
    return randomId(ID_PREFIX[type]);
  }

  get<T extends ObjectType>(type: T, id: string): RecordOf<T> | undefined {
    return this.maps[type].get(id) as RecordOf<T> | undefined;
  }

  /** The object if it belongs to `account`; otherwise Stripe's 404, as if it did not exist. */
  owned<T extends ObjectType>(type: T, account: string, id: string, param = 'id'): RecordOf<T> {
    const record = this.get(type, id);
    if (!record || record.account !== account) throw resourceMissing(LABEL[type], id, param);
    return record;
  }

  insert<R extends StoredRecord>(record: R): R {
    (this.maps[record.object] as Map<string, StoredRecord>).set(record.id, record);
    const key = `${record.account} ${record.object}`;
    let list = this.lists.get(key);
    if (!list) {
      list = [];
      this.lists.set(key, list);
      this.accountIds.add(record.account);
    }
    list.push(record.id);
    this.mark(record);
    return record;
  }

  /** Stores a new version of `record` with `changes` applied and returns it. */
  update<R extends StoredRecord>(record: R, changes: Partial<R>): R {
    const next = { ...record, ...changes };
    (this.maps[record.object] as Map<string, StoredRecord>).set(record.id, next);
    this.mark(next);
    return next;
  }

  /** Writes an event about `record`; with `previous`, the changed wire fields go in previous_attributes. */
  emit(type: string, record: StoredRecord, ctx: Ctx, previous?: StoredRecord): EventRecord {
    const event = this.insert<EventRecord>({
      object: 'event',
      id: this.newId('event'),
      account: record.account,
      created: ctx.now,
      type,
      data_object: record,
      previous_attributes: previous ? changedFields(previous, record) : null,
      request: ctx.request,
      api_version: ctx.apiVersion,
    });
    this.onEvent?.(event);
    return event;
  }

  /** Ids of one account's objects of one type, oldest first. */
  list(type: ObjectType, account: string): readonly string[] {
    return this.lists.get(`${account} ${type}`) ?? [];
  }

  all<T extends ObjectType>(type: T): IterableIterator<RecordOf<T>> {
    return this.maps[type].values() as IterableIterator<RecordOf<T>>;
  }

  count(type: ObjectType): number {
    return this.maps[type].size;
  }

  /** How many records are held, all types together. */
  size(): number {
    let total = 0;
    for (const type of OBJECT_TYPES) total += this.maps[type].size;
    return total;
  }

  accounts(): string[] {
    return [...this.accountIds];
  }

  /** Loads one journal line: the first version of an id places it in its list, later ones replace it. */
  restore(record: StoredRecord): void {
    const map = this.maps[record.object] as Map<string, StoredRecord>;
    if (map.has(record.id)) map.set(record.id, record);
    else {
      const journal = this.journal;
      this.journal = null;
      this.insert(record);
      this.journal = journal;
    }
  }

  *entries(): Iterable<JournalEntry> {
    for (const type of OBJECT_TYPES)
      for (const record of this.maps[type].values()) yield { t: type, r: record };
  }

  private mark(record: StoredRecord): void {
    this.journal?.mark(record.id, () => ({ t: record.object, r: this.get(record.object, record.id)! }));
  }
}

function changedFields(previous: StoredRecord, next: StoredRecord): Record<string, unknown> {
  const changed: Record<string, unknown> = {};
  const before = previous as unknown as Record<string, unknown>;
  const after = next as unknown as Record<string, unknown>;
  for (const key of Object.keys(after)) {
    if (!INTERNAL_FIELDS.has(key) && before[key] !== after[key]) changed[key] = before[key] ?? null;
  }
  return changed;
}
