// Owns GET /_emulator/state: every object the emulator holds, by collection, in PayPal's wire form plus
// the account (merchant id) it belongs to, and the emulator's counters (request ids, webhooks, faults).
import type { FaultInjector } from '../shared/faults.js';
import type { WebhookDelivery } from '../shared/webhook-delivery.js';
import type { RequestIdTable } from './idempotency.js';
import type { RecordKind, StoredRecord } from './records.js';
import {
  type RenderContext,
  renderAuthorization,
  renderCapture,
  renderDispute,
  renderOrder,
  renderRefund,
} from './render.js';
import type { PayPalStore } from './store.js';

const COLLECTIONS: Record<string, RecordKind> = {
  orders: 'order',
  captures: 'capture',
  authorizations: 'authorization',
  refunds: 'refund',
  disputes: 'dispute',
  events: 'event',
};

function wire(ctx: RenderContext, record: StoredRecord): Record<string, unknown> {
  switch (record.kind) {
    case 'order':
      return renderOrder(ctx, record);
    case 'capture':
      return renderCapture(ctx, record);
    case 'authorization':
      return renderAuthorization(ctx, record);
    case 'refund':
      return renderRefund(ctx, record);
    case 'dispute':
      return renderDispute(ctx, record);
    case 'event':
      return JSON.parse(record.body) as Record<string, unknown>;
  }
}

export interface StateSources {
  store: PayPalStore;
  idempotency: RequestIdTable;
  faults: FaultInjector;
  delivery: WebhookDelivery;
  render: RenderContext;
  now: Date;
}

export function emulatorState(sources: StateSources, types: string[] | null) {
  const { store, render } = sources;
  const counts: Record<string, number> = {};
  const collections: Record<string, unknown[]> = {};
  for (const [name, kind] of Object.entries(COLLECTIONS)) {
    counts[name] = store.count(kind);
    if (types && !types.includes(name)) continue;
    collections[name] = Array.from(store.all(kind), (record) => ({
      ...wire(render, record),
      account: record.account,
    }));
  }
  return {
    object: 'emulator_state',
    provider: 'paypal',
    now: sources.now.toISOString(),
    counts,
    idempotency_keys: sources.idempotency.size(),
    webhooks: { url: sources.delivery.currentTarget()?.url ?? null, ...sources.delivery.stats() },
    faults: sources.faults.current(),
    ...collections,
  };
}
