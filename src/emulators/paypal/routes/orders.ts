// Owns /v2/checkout/orders: create (optionally with a payment source), retrieve,
// confirm-payment-source, capture and authorize. Captures and authorizations are the charging calls.
import type { Ctx } from '../context.js';
import type { PayPalRoute, RouteInput } from '../http.js';
import { confirmSource, createOrder } from '../orders.js';
import { authorizeOrder, captureOrder } from '../payments.js';
import { renderOrder } from '../render.js';

export function orderRoutes(context: (now: Date) => Ctx): PayPalRoute[] {
  const load = (input: RouteInput, ctx: Ctx) =>
    ctx.store.owned('order', input.caller.account, input.params['id']!);
  return [
    {
      method: 'POST',
      url: '/v2/checkout/orders',
      handle(input) {
        const ctx = context(input.now);
        return { status: 201, body: renderOrder(ctx.render, createOrder(ctx, input.body, input.caller)) };
      },
    },
    {
      method: 'GET',
      url: '/v2/checkout/orders/:id',
      handle(input) {
        const ctx = context(input.now);
        return { status: 200, body: renderOrder(ctx.render, load(input, ctx)) };
      },
    },
    {
      method: 'POST',
      url: '/v2/checkout/orders/:id/confirm-payment-source',
      handle(input) {
        const ctx = context(input.now);
        const order = confirmSource(ctx, load(input, ctx), input.body['payment_source'], input.caller);
        return { status: 200, body: renderOrder(ctx.render, order) };
      },
    },
    {
      method: 'POST',
      url: '/v2/checkout/orders/:id/capture',
      charges: true,
      handle(input) {
        const ctx = context(input.now);
        return { status: 201, body: renderOrder(ctx.render, captureOrder(ctx, load(input, ctx))) };
      },
    },
    {
      method: 'POST',
      url: '/v2/checkout/orders/:id/authorize',
      charges: true,
      handle(input) {
        const ctx = context(input.now);
        return { status: 201, body: renderOrder(ctx.render, authorizeOrder(ctx, load(input, ctx))) };
      },
    },
  ];
}
