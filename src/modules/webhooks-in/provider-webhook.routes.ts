// One inbound webhook route per provider (DESIGN section 7): the body is read raw, because each
// provider signs the exact bytes it sent (Stripe an HMAC, PayPal a CRC32 under its certificate), and
// verified by the provider's connector before anything is written. A delivery that does not verify is
// a 400, which providers retry. A verified one is stored in the inbox with its processing job (one
// statement) and answered 200 at once; a delivery of an event already stored is acknowledged as a
// duplicate and changes nothing. A database failure is a 500 (503 in an outage), which providers retry.
import type { FastifyInstance } from 'fastify';
import client from 'prom-client';
import { AppError } from '../../http/errors.js';
import type { Logger } from '../../observability/logger.js';
import { type ProviderEvent, type ProviderName, WebhookVerificationError } from '../../providers/provider.js';
import type { ProviderRegistry } from '../../providers/registry.js';
import type { WebhookInboxService } from './webhook-inbox.service.js';
import { webhooksReceivedCounter } from './webhooks-in.js';

export interface WebhookRouteDeps {
  providers: ProviderRegistry;
  inbox: WebhookInboxService;
  logger: Logger;
  registry: client.Registry;
}

export interface ProviderWebhookRoute {
  provider: ProviderName;
  /** How the provider is named in messages ("Stripe"). */
  label: string;
  paths: readonly string[];
  /**
   * The provider's own duration histogram (`stripe_webhook_duration_seconds`: runbook 003's name): the
   * request's time, verification and storing; processing is `webhook_processing_duration_seconds`.
   */
  durationMetric: string;
}

export function registerProviderWebhookRoute(
  app: FastifyInstance,
  deps: WebhookRouteDeps,
  route: ProviderWebhookRoute,
): void {
  const duration = new client.Histogram({
    name: route.durationMetric,
    help: `Time to verify and store one inbound ${route.label} webhook`,
    labelNames: ['outcome'],
    // Up to 10 s: runbook 002's StripeWebhookDelay fires on a p99 above 3 s, which a last finite
    // bucket of 2.5 s could never show (histogram_quantile caps at the highest finite bucket).
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
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
        if (!event.providerEventId) {
          // Signed but without an id: it could never be deduplicated, so it is refused like a bad signature.
          received.inc({ provider: name, outcome: 'signature_invalid' });
          stop({ outcome: 'signature_invalid' });
          throw new AppError(
            400,
            'invalid_request_error',
            'webhook_signature_invalid',
            'the event has no id',
            {
              shouldRetry: false,
            },
          );
        }
        const { duplicate } = await deps.inbox.accept(name, event);
        const outcome = duplicate ? 'duplicate' : 'accepted';
        received.inc({ provider: name, outcome });
        stop({ outcome });
        return { received: true, id: event.providerEventId, duplicate };
      });
    }
  });
}
