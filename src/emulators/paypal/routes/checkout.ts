// Owns the payer's approval page, the href of an order's `approve` / `payer-action` link. A plain
// `GET /checkoutnow?token=<order>&action=approve|fail` approves (or passes 3-D Secure) and redirects
// (302) to the return_url with `token` and `PayerID`, or cancels and redirects to the cancel_url;
// without `action` it shows two links.
import type { FastifyInstance } from 'fastify';
import type { Ctx } from '../context.js';
import { formatValue } from '../money.js';
import { approveOrder, awaitingPayer, cancelByPayer } from '../orders.js';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function withQuery(base: string, query: Record<string, string>): string {
  const url = new URL(base);
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  return url.toString();
}

export function registerCheckoutRoutes(app: FastifyInstance, context: () => Ctx): void {
  app.get('/checkoutnow', async (request, reply) => {
    const { token, action } = request.query as { token?: string; action?: string };
    const ctx = context();
    const order = token ? ctx.store.get('order', token) : undefined;
    if (!order || !awaitingPayer(order)) {
      return reply.code(404).type('text/plain').send('This checkout session has expired or does not exist.');
    }
    if (action === undefined) {
      const self = `/checkoutnow?token=${encodeURIComponent(order.id)}`;
      const { amount } = order.purchase_unit;
      return reply
        .type('text/html; charset=utf-8')
        .send(
          `<!doctype html><title>PayPal sandbox checkout</title><h1>PayPal sandbox checkout</h1>` +
            `<p>Order ${escapeHtml(order.id)}: ${escapeHtml(formatValue(amount.minor, amount.currency))} ${escapeHtml(amount.currency)}</p>` +
            `<a id="approve" href="${self}&amp;action=approve">Approve</a> ` +
            `<a id="fail" href="${self}&amp;action=fail">Cancel</a>`,
        );
    }
    if (action !== 'approve' && action !== 'fail') {
      return reply.code(400).type('text/plain').send('action must be approve or fail');
    }
    if (action === 'approve') {
      const approved = approveOrder(ctx, order);
      if (approved.return_url) {
        const query: Record<string, string> = { token: approved.id };
        if (approved.payer) query['PayerID'] = approved.payer.payer_id;
        return reply.redirect(withQuery(approved.return_url, query), 302);
      }
      return reply.type('text/plain').send('Payment approved. You may close this page.');
    }
    const cancelled = cancelByPayer(ctx, order);
    if (cancelled.cancel_url)
      return reply.redirect(withQuery(cancelled.cancel_url, { token: cancelled.id }), 302);
    return reply.type('text/plain').send('Payment cancelled. You may close this page.');
  });
}
