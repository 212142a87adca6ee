// Inbound provider webhooks, first version (DESIGN section 7): verify the signature on the raw body,
// then hand the event to the modules that own its subject. Handlers settle from the provider's record
// and are idempotent, so a duplicate or out-of-order delivery changes nothing twice.
import type { ProviderEvent, ProviderName } from '../../providers/provider.js';

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
