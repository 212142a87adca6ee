// HTTP surface of payment intents (/v1/payment_intents) and charges (/v1/charges). Confirm, capture and
// create-with-confirm are resumable: a retry after a crash continues from the saved attempt instead of
// starting a new one, and the completer stores their answer if nobody retries.
import { AppError, invalidParam } from '../../http/errors.js';
import type { Scope } from '../../http/expand.js';
import type { IdempotencyHandle } from '../../http/idempotency.js';
import { text } from '../../http/params.js';
import type { Router } from '../../http/route.js';
import type { PaymentMethodsService } from '../payment-methods/payment-methods.service.js';
import { chargeListFilters } from './charges.js';
import type { ChargesService } from './charges.service.js';
import { type PaymentFlows, previewOf } from './payment-flows.js';
import {
  cancelFields,
  captureFields,
  confirmFields,
  createFields,
  listFilters,
  type PaymentMethodData,
  searchFields,
  toPaymentIntentObject,
  updateFields,
} from './payment-intents.js';
import type { PaymentsService } from './payments.service.js';
import type { PaymentRecovery } from './recovery.js';

const byId = { id: text(255) };
const tags = ['Payment intents'];

export interface PaymentRouteDeps {
  payments: PaymentsService;
  paymentMethods: Pick<PaymentMethodsService, 'storePayPal'>;
  flows: PaymentFlows;
  recovery: PaymentRecovery;
  charges: ChargesService;
  /** Counts a payment creation against the shopper's allowance (the customer, else shopper_ip); throws the 429. */
  limitShopper?: (scope: Scope, customer: string | undefined, shopperIp: string | undefined) => Promise<void>;
}

/**
 * payment_method_data: the payment method is made for this intent (PayPal's has nothing to check), once
 * everything else about the request has passed its checks.
 */
async function inlinePaymentMethod(
  deps: PaymentRouteDeps,
  scope: Scope,
  input: { payment_method?: string | undefined; payment_method_data?: PaymentMethodData | undefined },
): Promise<string | undefined> {
  if (!input.payment_method_data) return input.payment_method;
  if (input.payment_method) {
    throw invalidParam('payment_method_data', 'Pass payment_method or payment_method_data, not both.');
  }
  return (await deps.paymentMethods.storePayPal(scope, input.payment_method_data)).id;
}

/** A retried request whose first execution died: answer from the attempt it started, if any. */
async function resumed(deps: PaymentRouteDeps, scope: Scope, handle: IdempotencyHandle) {
  if (!handle.resumed || handle.recoveryPoint === 'started') return undefined;
  try {
    return await deps.recovery.answer(handle);
  } catch (error) {
    if (error instanceof AppError) throw error;
    // Still unknown at the provider: the intent says `processing` until evidence arrives.
    const data = handle.recoveryData as { paymentIntentId?: string } | null;
    if (!data?.paymentIntentId) throw error;
    return deps.payments.retrieve(scope, data.paymentIntentId);
  }
}

export function registerPaymentIntentRoutes(router: Router, deps: PaymentRouteDeps): void {
  const { payments, flows } = deps;
  router.merchant({
    method: 'POST',
    url: '/v1/payment_intents',
    summary: 'Create a payment intent (and confirm it with confirm=true)',
    tags,
    auth: 'secret',
    scope: 'payment_intents:write',
    resumable: true,
    input: createFields,
    handler: async ({ merchant, input, info, idempotency }) => {
      if (idempotency) {
        const answer = await resumed(deps, merchant, idempotency);
        if (answer) return answer;
      }
      const request = { id: info.requestId, idempotencyKey: idempotency?.key };
      const { confirm, payment_method_data, ...checked } = input;
      await deps.limitShopper?.(merchant, checked.customer, checked.shopper_ip);
      // The kill switch and rollout refuse a new confirmation before anything is written.
      if (confirm) await flows.admit(merchant, checked.customer);
      // The rest of the request is checked before the payment method is made, so a refusal stores nothing.
      if (payment_method_data) await payments.prepareCreate(merchant, checked);
      const fields = {
        ...checked,
        payment_method: await inlinePaymentMethod(deps, merchant, { ...checked, payment_method_data }),
      };
      if (!confirm) return payments.create(merchant, fields, request);
      // A wallet payment pays from the customer's wallet: no payment method is named.
      const payingFromWallet = (fields.payment_method_types ?? fields.allowed_payment_method_types)?.includes(
        'wallet',
      );
      if (!fields.payment_method && !payingFromWallet) {
        throw new AppError(
          400,
          'invalid_request_error',
          'parameter_missing',
          'confirm=true needs a payment_method.',
          {
            param: 'payment_method',
            shouldRetry: false,
          },
        );
      }
      // Inserted with its first attempt in one transaction, after every check has passed.
      const create = await payments.prepareCreate(merchant, fields);
      const intent = await flows.confirm(
        merchant,
        previewOf(create),
        { return_url: fields.return_url },
        { request, idempotency, create },
      );
      return toPaymentIntentObject(intent);
    },
  });
  router.merchant({
    method: 'GET',
    url: '/v1/payment_intents/search',
    summary: "Search payment intents (metadata['key']:'value', status, currency, customer)",
    tags,
    auth: 'secret',
    scope: 'payment_intents:read',
    input: searchFields,
    handler: ({ merchant, input }) => payments.search(merchant, input),
  });
  router.merchant({
    method: 'GET',
    url: '/v1/payment_intents/:id',
    summary: 'Retrieve a payment intent',
    tags,
    auth: 'secret',
    scope: 'payment_intents:read',
    params: byId,
    handler: ({ merchant, params }) => payments.retrieve(merchant, params.id),
  });
  router.merchant({
    method: 'POST',
    url: '/v1/payment_intents/:id',
    summary: 'Update a payment intent',
    tags,
    auth: 'secret',
    scope: 'payment_intents:write',
    params: byId,
    input: updateFields,
    handler: async ({ merchant, params, input, info, idempotency }) => {
      return payments.update(merchant, params.id, input, {
        id: info.requestId,
        idempotencyKey: idempotency?.key,
      });
    },
  });
  router.merchant({
    method: 'POST',
    url: '/v1/payment_intents/:id/confirm',
    summary: 'Confirm a payment intent',
    tags,
    auth: 'secret',
    scope: 'payment_intents:write',
    resumable: true,
    params: byId,
    input: confirmFields,
    handler: async ({ merchant, params, input, info, idempotency }) => {
      if (idempotency) {
        const answer = await resumed(deps, merchant, idempotency);
        if (answer) return answer;
      }
      const intent = await payments.row(merchant, params.id);
      await flows.admit(merchant, intent.customer_id);
      const request = { id: info.requestId, idempotencyKey: idempotency?.key };
      const { payment_method_data, ...rest } = input;
      const paymentMethod = await inlinePaymentMethod(deps, merchant, input);
      const confirmed = await flows.confirm(
        merchant,
        intent,
        { ...rest, ...(paymentMethod ? { payment_method: paymentMethod } : {}) },
        { request, idempotency },
      );
      return toPaymentIntentObject(confirmed);
    },
  });
  router.merchant({
    method: 'POST',
    url: '/v1/payment_intents/:id/capture',
    summary: 'Capture an authorized payment intent (partially with amount_to_capture)',
    tags,
    auth: 'secret',
    scope: 'payment_intents:write',
    resumable: true,
    params: byId,
    input: captureFields,
    handler: async ({ merchant, params, input, info, idempotency }) => {
      if (idempotency) {
        const answer = await resumed(deps, merchant, idempotency);
        if (answer) return answer;
      }
      const request = { id: info.requestId, idempotencyKey: idempotency?.key };
      return toPaymentIntentObject(await flows.capture(merchant, params.id, input, { request, idempotency }));
    },
  });
  router.merchant({
    method: 'POST',
    url: '/v1/payment_intents/:id/cancel',
    summary: 'Cancel a payment intent',
    tags,
    auth: 'secret',
    scope: 'payment_intents:write',
    params: byId,
    input: cancelFields,
    handler: async ({ merchant, params, input, info, idempotency }) => {
      const request = { id: info.requestId, idempotencyKey: idempotency?.key };
      return toPaymentIntentObject(await flows.cancel(merchant, params.id, input, { request, idempotency }));
    },
  });
  router.merchant({
    method: 'GET',
    url: '/v1/payment_intents',
    summary: 'List payment intents, newest first',
    tags,
    auth: 'secret',
    scope: 'payment_intents:read',
    input: listFilters,
    handler: ({ merchant, input }) => payments.list(merchant, input),
  });

  router.merchant({
    method: 'GET',
    url: '/v1/charges/:id',
    summary: 'Retrieve a charge',
    tags: ['Charges'],
    auth: 'secret',
    scope: 'charges:read',
    params: byId,
    handler: ({ merchant, params }) => deps.charges.retrieve(merchant, params.id),
  });
  router.merchant({
    method: 'GET',
    url: '/v1/charges',
    summary: 'List charges, newest first',
    tags: ['Charges'],
    auth: 'secret',
    scope: 'charges:read',
    input: chargeListFilters,
    handler: ({ merchant, input }) => deps.charges.list(merchant, input),
  });
}
