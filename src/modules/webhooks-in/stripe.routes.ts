// POST /webhooks/stripe (and /api/webhooks/stripe, the runbooks' path), signed with any of the
// STRIPE_WEBHOOK_SECRET values (stripe.webhook.ts).
import type { FastifyInstance } from 'fastify';
import { registerProviderWebhookRoute, type WebhookRouteDeps } from './provider-webhook.routes.js';

export const STRIPE_WEBHOOK_PATHS = ['/webhooks/stripe', '/api/webhooks/stripe'];

export function registerStripeWebhookRoutes(app: FastifyInstance, deps: WebhookRouteDeps): void {
  registerProviderWebhookRoute(app, deps, {
    provider: 'stripe',
    label: 'Stripe',
    paths: STRIPE_WEBHOOK_PATHS,
    durationMetric: 'stripe_webhook_duration_seconds',
  });
}
