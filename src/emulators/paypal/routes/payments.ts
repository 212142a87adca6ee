// Owns /v2/payments: authorizations (retrieve, capture, void), captures (retrieve, refund) and refunds
// (retrieve). Authorization captures and refunds are charging calls for the after-charge faults.
import type { Ctx } from '../context.js';
import type { PayPalRoute, RouteInput } from '../http.js';
import { captureAuthorization, refundCapture, voidAuthorization } from '../payments.js';
import { renderAuthorization, renderCapture, renderRefund } from '../render.js';

export function paymentRoutes(context: (now: Date) => Ctx): PayPalRoute[] {
  const owned = <K extends 'authorization' | 'capture' | 'refund'>(kind: K, input: RouteInput, ctx: Ctx) =>
    ctx.store.owned(kind, input.caller.account, input.params['id']!);
  return [
    {
      method: 'GET',
      url: '/v2/payments/authorizations/:id',
      handle(input) {
        const ctx = context(input.now);
        return { status: 200, body: renderAuthorization(ctx.render, owned('authorization', input, ctx)) };
      },
    },
    {
      method: 'POST',
      url: '/v2/payments/authorizations/:id/capture',
      charges: true,
      handle(input) {
        const ctx = context(input.now);
        const capture = captureAuthorization(ctx, owned('authorization', input, ctx), input.body);
        return { status: 201, body: renderCapture(ctx.render, capture) };
      },
    },
    {
      method: 'POST',
      url: '/v2/payments/authorizations/:id/void',
      handle(input) {
        const ctx = context(input.now);
        const voided = voidAuthorization(ctx, owned('authorization', input, ctx));
        // PayPal answers 204 unless the caller asks for the representation.
        return input.wantsRepresentation
          ? { status: 200, body: renderAuthorization(ctx.render, voided) }
          : { status: 204 };
      },
    },
    {
      method: 'GET',
      url: '/v2/payments/captures/:id',
      handle(input) {
        const ctx = context(input.now);
        return { status: 200, body: renderCapture(ctx.render, owned('capture', input, ctx)) };
      },
    },
    {
      method: 'POST',
      url: '/v2/payments/captures/:id/refund',
      charges: true,
      handle(input) {
        const ctx = context(input.now);
        const refund = refundCapture(ctx, owned('capture', input, ctx), input.body);
        return { status: 201, body: renderRefund(ctx.render, refund) };
      },
    },
    {
      method: 'GET',
      url: '/v2/payments/refunds/:id',
      handle(input) {
        const ctx = context(input.now);
        return { status: 200, body: renderRefund(ctx.render, owned('refund', input, ctx)) };
      },
    },
  ];
}
