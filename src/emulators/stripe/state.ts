// Owns GET /_emulator/state: every object the emulator holds, by type, in Stripe's wire form plus the
// account it belongs to, and the emulator's own counters (idempotency keys, webhooks, faults).
import type { FaultInjector } from '../shared/faults.js';
import type { WebhookDelivery } from '../shared/webhook-delivery.js';
import type { IdempotencyTable } from './idempotency.js';
import type { ObjectType } from './records.js';
import { type RenderContext, renderRecord } from './render.js';
import type { StripeStore } from './store.js';

const COLLECTIONS: Record<string, ObjectType> = {
  payment_methods: 'payment_method',
  payment_intents: 'payment_intent',
  charges: 'charge',
  refunds: 'refund',
  disputes: 'dispute',
  balance_transactions: 'balance_transaction',
  files: 'file',
  events: 'event',
};

export interface StateSources {
  store: StripeStore;
  idempotency: IdempotencyTable;
  faults: FaultInjector;
  delivery: WebhookDelivery;
  renderContext: RenderContext;
}

export function emulatorState(sources: StateSources, types: string[] | null) {
  const { store, renderContext } = sources;
  const counts: Record<string, number> = {};
  const collections: Record<string, unknown[]> = {};
  for (const [name, type] of Object.entries(COLLECTIONS)) {
    counts[name] = store.count(type);
    if (types && !types.includes(name)) continue;
    collections[name] = Array.from(store.all(type), (record) => ({
      ...renderRecord(record, renderContext),
      account: record.account,
    }));
  }
  return {
    object: 'emulator_state',
    provider: 'stripe',
    now: renderContext.now,
    accounts: store.accounts(),
    counts,
    idempotency_keys: sources.idempotency.size(),
    webhooks: { url: sources.delivery.currentTarget()?.url ?? null, ...sources.delivery.stats() },
    faults: sources.faults.current(),
    ...collections,
  };
}
