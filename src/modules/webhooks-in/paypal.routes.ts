// POST /webhooks/paypal. The body is read raw: PayPal signs a CRC32 of the exact bytes it sent, so this
// route has its own parser. Verification is local (paypal.webhook.ts: PayPal's certificate from an
// allowlisted host, the signature, the transmission time) and happens before anything is written. A
// delivery that does not verify is a 400 that PayPal will retry; a handler failure (database down) is
// a 500, which PayPal also retries.
import type { FastifyInstance } from 'fastify';
import client from 'prom-client';
import { AppError } from '../../http/errors.js';
import type { Logger } from '../../observability/logger.js';
import { type ProviderEvent, WebhookVerificationError } from '../../providers/provider.js';
import type { ProviderRegistry } from '../../providers/registry.js';
import { type WebhookDispatcher, webhooksReceivedCounter } from './webhooks-in.js';

export const PAYPAL_WEBHOOK_PATH = '/webhooks/paypal';

export function registerPayPalWebhookRoutes(
  app: FastifyInstance,
  deps: {
    providers: ProviderRegistry;
    dispatcher: WebhookDispatcher;
    logger: Logger;
    registry: client.Registry;
  },
): void {
  const duration = new client.Histogram({
    name: 'paypal_webhook_duration_seconds',
    help: 'Time to verify and process one inbound PayPal webhook',
    labelNames: ['outcome'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [deps.registry],
  });
  const received = webhooksReceivedCounter(deps.registry);

  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    scope.post(PAYPAL_WEBHOOK_PATH, { schema: { hide: true } }, async (request) => {
      const stop = duration.startTimer();
      const paypal = deps.providers.paypal;
      if (!paypal) {
        throw new AppError(503, 'api_error', 'provider_not_configured', 'PayPal is not configured here.');
      }
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      let event: ProviderEvent;
      try {
        event = await paypal.parseWebhook(raw, request.headers);
      } catch (error) {
        if (!(error instanceof WebhookVerificationError)) throw error;
        received.inc({ provider: 'paypal', outcome: 'signature_invalid' });
        stop({ outcome: 'signature_invalid' });
        deps.logger.warn({ reason: error.message }, 'PayPal webhook refused');
        throw new AppError(400, 'invalid_request_error', 'webhook_signature_invalid', error.message, {
          shouldRetry: false,
        });
      }
      const handled = await deps.dispatcher.dispatch('paypal', event);
      const outcome = handled ? 'processed' : 'ignored';
      received.inc({ provider: 'paypal', outcome });
      stop({ outcome });
      return { received: true, id: event.providerEventId, handled };
    });
  });
}
