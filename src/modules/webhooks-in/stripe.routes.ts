// POST /webhooks/stripe (and /api/webhooks/stripe, the runbooks' path). The body is read raw: the
// signature covers the exact bytes Stripe sent, so this route has its own parser. A bad signature is a
// 400 that Stripe will retry; a handler failure (database down) is a 500, which Stripe also retries.
import type { FastifyInstance } from 'fastify';
import client from 'prom-client';
import { AppError } from '../../http/errors.js';
import type { Logger } from '../../observability/logger.js';
import type { ProviderEvent } from '../../providers/provider.js';
import type { ProviderRegistry } from '../../providers/registry.js';
import { WebhookVerificationError } from '../../providers/stripe/stripe.webhook.js';
import { type WebhookDispatcher, webhooksReceivedCounter } from './webhooks-in.js';

export const STRIPE_WEBHOOK_PATHS = ['/webhooks/stripe', '/api/webhooks/stripe'];

export function registerStripeWebhookRoutes(
  app: FastifyInstance,
  deps: {
    providers: ProviderRegistry;
    dispatcher: WebhookDispatcher;
    logger: Logger;
    registry: client.Registry;
  },
): void {
  const duration = new client.Histogram({
    name: 'stripe_webhook_duration_seconds',
    help: 'Time to verify and process one inbound Stripe webhook',
    labelNames: ['outcome'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [deps.registry],
  });
  const received = webhooksReceivedCounter(deps.registry);

  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    for (const url of STRIPE_WEBHOOK_PATHS) {
      scope.post(url, { schema: { hide: true } }, async (request) => {
        const stop = duration.startTimer();
        const stripe = deps.providers.stripe;
        if (!stripe) {
          throw new AppError(503, 'api_error', 'provider_not_configured', 'Stripe is not configured here.');
        }
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        let event: ProviderEvent;
        try {
          event = await stripe.parseWebhook(raw, request.headers);
        } catch (error) {
          if (!(error instanceof WebhookVerificationError)) throw error;
          received.inc({ provider: 'stripe', outcome: 'signature_invalid' });
          stop({ outcome: 'signature_invalid' });
          deps.logger.warn({ reason: error.message }, 'Stripe webhook refused');
          throw new AppError(400, 'invalid_request_error', 'webhook_signature_invalid', error.message, {
            shouldRetry: false,
          });
        }
        const handled = await deps.dispatcher.dispatch('stripe', event);
        const outcome = handled ? 'processed' : 'ignored';
        received.inc({ provider: 'stripe', outcome });
        stop({ outcome });
        return { received: true, id: event.providerEventId, handled };
      });
    }
  });
}
