// HTTP surface of payment methods under /v1/payment_methods. Creation is the one route a publishable key
// may call, from a browser, so card data goes straight to the vault: it alone answers CORS (the
// preflight and Access-Control-Allow-Origin on every answer, errors included).
import type { FastifyInstance } from 'fastify';
import { text } from '../../http/params.js';
import type { Router } from '../../http/route.js';
import { attachFields, createFields, listFilters, updateFields } from './payment-methods.js';
import type { PaymentMethodsService } from './payment-methods.service.js';

const byId = { id: text(255) };
const COLLECTION = '/v1/payment_methods';

function registerCors(app: FastifyInstance): void {
  app.options(COLLECTION, { schema: { hide: true } }, async (_request, reply) => {
    reply
      .code(204)
      .header('Access-Control-Allow-Origin', '*')
      .header('Access-Control-Allow-Methods', 'POST')
      .header('Access-Control-Allow-Headers', 'authorization, content-type, idempotency-key')
      .header('Access-Control-Max-Age', '600');
    return reply.send();
  });
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.method === 'POST' && request.routeOptions.url === COLLECTION) {
      reply.header('Access-Control-Allow-Origin', '*');
    }
    return payload;
  });
}

export function registerPaymentMethodRoutes(
  app: FastifyInstance,
  router: Router,
  paymentMethods: PaymentMethodsService,
): void {
  const tags = ['Payment methods'];
  registerCors(app);
  router.merchant({
    method: 'POST',
    url: COLLECTION,
    summary: 'Create a card payment method (secret or publishable key; the card goes to the vault)',
    tags,
    auth: 'secret_or_publishable',
    scope: 'payment_methods:write',
    input: createFields,
    handler: ({ merchant, input }) => paymentMethods.create(merchant, input),
  });
  router.merchant({
    method: 'GET',
    url: `${COLLECTION}/:id`,
    summary: 'Retrieve a payment method (test ids such as pm_card_visa in test mode)',
    tags,
    auth: 'secret',
    scope: 'payment_methods:read',
    params: byId,
    handler: ({ merchant, params }) => paymentMethods.retrieve(merchant, params.id),
  });
  router.merchant({
    method: 'POST',
    url: `${COLLECTION}/:id`,
    summary: 'Update billing details, metadata or the card expiry',
    tags,
    auth: 'secret',
    scope: 'payment_methods:write',
    params: byId,
    input: updateFields,
    handler: ({ merchant, params, input, info, idempotency }) =>
      paymentMethods.update(merchant, params.id, input, {
        id: info.requestId,
        idempotencyKey: idempotency?.key,
      }),
  });
  router.merchant({
    method: 'POST',
    url: `${COLLECTION}/:id/attach`,
    summary: 'Attach a payment method to a customer',
    tags,
    auth: 'secret',
    scope: 'payment_methods:write',
    params: byId,
    input: attachFields,
    handler: ({ merchant, params, input, info, idempotency }) =>
      paymentMethods.attach(merchant, params.id, input.customer, {
        id: info.requestId,
        idempotencyKey: idempotency?.key,
      }),
  });
  router.merchant({
    method: 'POST',
    url: `${COLLECTION}/:id/detach`,
    summary: 'Detach a payment method from its customer (it cannot be used again)',
    tags,
    auth: 'secret',
    scope: 'payment_methods:write',
    params: byId,
    handler: ({ merchant, params, info, idempotency }) =>
      paymentMethods.detach(merchant, params.id, { id: info.requestId, idempotencyKey: idempotency?.key }),
  });
  router.merchant({
    method: 'GET',
    url: COLLECTION,
    summary: "List a customer's payment methods, newest first",
    tags,
    auth: 'secret',
    scope: 'payment_methods:read',
    input: listFilters,
    handler: ({ merchant, input }) => paymentMethods.list(merchant, input),
  });
}
