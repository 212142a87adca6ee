// Inbound provider webhooks (DESIGN section 7): the routes verify the signature on the raw body and
// store the event in the inbox (webhook-inbox.service.ts), whose job hands it to the modules that own
// its subject through this dispatcher. Handlers settle from the provider's record (a GET, or the
// provider object the event carries applied through a settlement that ignores what is not news) and are
// idempotent, so a duplicate or out-of-order delivery changes nothing twice.
import client from 'prom-client';
import type { ProviderEvent, ProviderName } from '../../providers/provider.js';

const RECEIVED_METRIC = 'webhooks_received_total';

/** `webhooks_received_total{provider,outcome}`: one counter for every provider's inbound route. */
export function webhooksReceivedCounter(registry: client.Registry): client.Counter<'provider' | 'outcome'> {
  const existing = registry.getSingleMetric(RECEIVED_METRIC);
  if (existing) return existing as client.Counter<'provider' | 'outcome'>;
  return new client.Counter({
    name: RECEIVED_METRIC,
    help: 'Inbound provider webhooks by provider and outcome',
    labelNames: ['provider', 'outcome'],
    registers: [registry],
  });
}

export interface ProviderEventHandler {
  /** Event types (exact, or a prefix ending in `.`) this handler owns. */
  readonly types: readonly string[];
  handle(provider: ProviderName, event: ProviderEvent): Promise<void>;
}

export class WebhookDispatcher {
  private readonly handlers: ProviderEventHandler[] = [];

  register(handler: ProviderEventHandler): void {
    this.handlers.push(handler);
  }

  /** Runs every handler that owns the type; returns whether any did. */
  async dispatch(provider: ProviderName, event: ProviderEvent): Promise<boolean> {
    const owners = this.handlers.filter((handler) =>
      handler.types.some((type) => (type.endsWith('.') ? event.type.startsWith(type) : event.type === type)),
    );
    for (const handler of owners) await handler.handle(provider, event);
    return owners.length > 0;
  }
}
