// One inbound webhook route per provider (DESIGN section 7): the body is read raw, because each
// provider signs the exact bytes it sent (Stripe an HMAC, PayPal a CRC32 under its certificate), and
// verified by the provider's connector before anything is written. A delivery that does not verify is
// a 400, which providers retry; a handler failure (database down) is a 500, which they also retry.
import type { FastifyInstance } from 'fastify';
import client from 'prom-client';
import { AppError } from '../../http/errors.js';
import type { Logger } from '../../observability/logger.js';
import { type ProviderEvent, type ProviderName, WebhookVerificationError } from '../../providers/provider.js';
import type { ProviderRegistry } from '../../providers/registry.js';
import { type WebhookDispatcher, webhooksReceivedCounter } from './webhooks-in.js';

export interface WebhookRouteDeps {
  providers: ProviderRegistry;
  dispatcher: WebhookDispatcher;
  logger: Logger;
  registry: client.Registry;
}

export interface ProviderWebhookRoute {
  provider: ProviderName;
  /** How the provider is named in messages ("Stripe"). */
  label: string;
  paths: readonly string[];
  /** The provider's own duration histogram (`stripe_webhook_duration_seconds`: runbook 003's name). */
  durationMetric: string;
}

export function registerProviderWebhookRoute(
  app: FastifyInstance,
  deps: WebhookRouteDeps,
  route: ProviderWebhookRoute,
): void {
  const duration = new client.Histogram({
    name: route.durationMetric,
    help: `Time to verify and process one inbound ${route.label} webhook`,
    labelNames: ['outcome'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [deps.registry],
  });
  const received = webhooksReceivedCounter(deps.registry);
  const { provider: name, label } = route;

  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    for (const url of route.paths) {
      scope.post(url, { schema: { hide: true } }, async (request) => {
        const stop = duration.startTimer();
        const provider = deps.providers.get(name);
        if (!provider) {
          throw new AppError(503, 'api_error', 'provider_not_configured', `${label} is not configured here.`);
        }
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        let event: ProviderEvent;
        try {
          event = await provider.parseWebhook(raw, request.headers);
        } catch (error) {
          if (!(error instanceof WebhookVerificationError)) throw error;
          received.inc({ provider: name, outcome: 'signature_invalid' });
          stop({ outcome: 'signature_invalid' });
          deps.logger.warn({ reason: error.message }, `${label} webhook refused`);
          throw new AppError(400, 'invalid_request_error', 'webhook_signature_invalid', error.message, {
            shouldRetry: false,
          });
        }
        const handled = await deps.dispatcher.dispatch(name, event);
        const outcome = handled ? 'processed' : 'ignored';
        received.inc({ provider: name, outcome });
        stop({ outcome });
        return { received: true, id: event.providerEventId, handled };
      });
    }
  });
}
