// Owns what every state change needs: the store, the time, how objects render, and the event sink
// that stores a webhook event and hands it to delivery.
import type { RenderContext } from './render.js';
import type { PayPalStore } from './store.js';
import type { EventInput } from './webhooks.js';

export interface Ctx {
  store: PayPalStore;
  now: Date;
  render: RenderContext;
  emit(account: string, event: EventInput): void;
}
