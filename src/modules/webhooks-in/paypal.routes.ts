// POST /webhooks/paypal. Verification is local (paypal.webhook.ts: PayPal's certificate from an
// allowlisted host, the signature over the CRC32 of the raw body, the transmission time), before
// anything is written.
import type { FastifyInstance } from 'fastify';
import { registerProviderWebhookRoute, type WebhookRouteDeps } from './provider-webhook.routes.js';

export const PAYPAL_WEBHOOK_PATH = '/webhooks/paypal';

export function registerPayPalWebhookRoutes(app: FastifyInstance, deps: WebhookRouteDeps): void {
  registerProviderWebhookRoute(app, deps, {
    provider: 'paypal',
    label: 'PayPal',
    paths: [PAYPAL_WEBHOOK_PATH],
    durationMetric: 'paypal_webhook_duration_seconds',
  });
}
