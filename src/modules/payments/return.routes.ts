// The return hop of DESIGN section 6: a provider sends the shopper back to PUBLIC_URL/return/<provider>/
// <attempt>. We read the payment from the provider (not from query parameters anyone could forge), apply
// it, then send the shopper on to the merchant's return_url with Stripe's three parameters.
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Logger } from '../../observability/logger.js';
import { findAttempt, findIntent } from './payments.repository.js';
import type { PaymentIntentRow } from './payments.table.js';
import type { PaymentRecovery } from './recovery.js';

function redirectStatus(intent: PaymentIntentRow): 'succeeded' | 'processing' | 'failed' {
  if (intent.status === 'succeeded' || intent.status === 'requires_capture') return 'succeeded';
  if (intent.status === 'processing') return 'processing';
  return 'failed';
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function registerReturnRoutes(
  app: FastifyInstance,
  deps: { db: Kysely<Database>; recovery: PaymentRecovery; logger: Logger },
): void {
  app.get<{ Params: { provider: string; attempt: string }; Querystring: { canceled?: string } }>(
    '/return/:provider/:attempt',
    { schema: { hide: true } },
    async (request, reply) => {
      const attempt = await findAttempt(deps.db, request.params.attempt);
      if (!attempt || attempt.provider !== request.params.provider) {
        return reply.code(404).type('text/html').send('<p>This payment link is not known.</p>');
      }
      try {
        // PayPal sends a payer who turned back to the cancel URL (?canceled=true); the provider's own
        // record is still read first, so a forged parameter can at most fail a payment never approved.
        if (request.query.canceled === 'true') await deps.recovery.abandonApproval(attempt);
        else await deps.recovery.settleFromProvider(attempt);
      } catch (error) {
        // The shopper is sent on regardless; the settlement job and webhooks finish the attempt.
        deps.logger.warn({ err: error, attempt: attempt.id }, 'return hop could not read the provider');
      }
      const scope = { merchantId: attempt.merchant_id, livemode: attempt.livemode };
      const intent = (await findIntent(deps.db, scope, attempt.payment_intent_id)) as PaymentIntentRow;
      const status = redirectStatus(intent);
      if (!attempt.return_url) {
        return reply.type('text/html').send(`<p>Payment ${escapeHtml(status)}. You may close this page.</p>`);
      }
      const target = new URL(attempt.return_url);
      target.searchParams.set('payment_intent', intent.id);
      target.searchParams.set('payment_intent_client_secret', intent.client_secret);
      target.searchParams.set('redirect_status', status);
      return reply.redirect(target.toString(), 302);
    },
  );
}
