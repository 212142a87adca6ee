// Owns the 3-D Secure page the shopper is sent to (next_action.redirect_to_url.url). A plain
// `GET <url>?action=approve|fail` completes or fails the authentication, then redirects (302) to the
// return_url given on confirm with Stripe's query parameters; without `action` it shows two links.
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../../clock.js';
import { nowSeconds } from '../../shared/emulator-clock.js';
import { completeAuthentication } from '../processor.js';
import type { PaymentIntentRecord } from '../records.js';
import type { StripeStore } from '../store.js';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function returnLocation(pi: PaymentIntentRecord): string | null {
  if (!pi.return_url) return null;
  const url = new URL(pi.return_url);
  url.searchParams.set('payment_intent', pi.id);
  url.searchParams.set('payment_intent_client_secret', pi.client_secret);
  url.searchParams.set(
    'redirect_status',
    pi.status === 'succeeded' || pi.status === 'requires_capture' ? 'succeeded' : 'failed',
  );
  return url.toString();
}

export function registerRedirectRoutes(
  app: FastifyInstance,
  store: StripeStore,
  clock: Clock,
  apiVersion: string,
): void {
  app.get('/3ds/authenticate/:intent/:token', async (request, reply) => {
    const { intent, token } = request.params as { intent: string; token: string };
    const { action } = request.query as { action?: string };
    let pi = store.get('payment_intent', intent);
    const pending = pi?.status === 'requires_action' && pi.three_ds_token === token;
    if (!pi || (!pending && action === undefined)) {
      return reply
        .code(404)
        .type('text/plain')
        .send('This authentication page has expired or does not exist.');
    }
    if (action === undefined) {
      const self = `/3ds/authenticate/${encodeURIComponent(intent)}/${encodeURIComponent(token)}`;
      return reply
        .type('text/html; charset=utf-8')
        .send(
          `<!doctype html><title>3D Secure test page</title><h1>3D Secure test payment</h1>` +
            `<p>Payment ${escapeHtml(intent)}: ${escapeHtml(String(pi.amount))} ${escapeHtml(pi.currency)}</p>` +
            `<a id="approve" href="${self}?action=approve">Complete authentication</a> ` +
            `<a id="fail" href="${self}?action=fail">Fail authentication</a>`,
        );
    }
    if (action !== 'approve' && action !== 'fail') {
      return reply.code(400).type('text/plain').send('action must be approve or fail');
    }
    if (pending) {
      const ctx = {
        account: pi.account,
        now: nowSeconds(clock),
        request: { id: null, idempotency_key: null },
        apiVersion,
      };
      pi = completeAuthentication(store, ctx, pi, action === 'approve').pi;
    }
    // Already completed (a refresh, a second click): send the shopper back with the current outcome.
    const location = returnLocation(pi);
    if (location) return reply.redirect(location, 302);
    return reply
      .type('text/plain')
      .send(`Authentication ${action === 'approve' ? 'completed' : 'failed'}. You may close this page.`);
  });
}
