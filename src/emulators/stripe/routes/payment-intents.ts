// Owns /v1/payment_intents: create (optionally confirming), retrieve, update, confirm, capture, cancel
// and list. A failed attempt answers 402 with the payment intent inside the error, as Stripe does.
import { randomToken } from '../../shared/random-id.js';
import { cancelIntent, captureIntent } from '../capture.js';
import { checkChargeAmount, checkCurrency } from '../currencies.js';
import { unexpectedState } from '../errors.js';
import type { ApiRoute, RouteInput } from '../http.js';
import { LIST_PARAMS, listPage } from '../listing.js';
import { mergeMetadata, Params, type Raw } from '../params.js';
import {
  CAPTURE_METHODS,
  CONFIRM_PARAMS,
  CONFIRMABLE,
  CREATE_PARAMS,
  chosenPaymentMethod,
  confirmWith,
  paymentMethodTypes,
  storedExtras,
  UPDATABLE,
  UPDATE_PARAMS,
} from '../payment-intent-params.js';
import type { CaptureMethod, PaymentIntentRecord } from '../records.js';
import type { StripeStore } from '../store.js';

const confirmsOnCreate = (params: Raw) => params['confirm'] === true || params['confirm'] === 'true';

export function paymentIntentRoutes(store: StripeStore, baseUrl: () => string): ApiRoute[] {
  const load = (input: RouteInput) =>
    store.owned('payment_intent', input.ctx.account, input.path['id']!, 'intent');
  return [
    {
      method: 'POST',
      url: '/v1/payment_intents',
      charges: confirmsOnCreate,
      handle(input) {
        const params = new Params(input.params, CREATE_PARAMS);
        const { ctx } = input;
        const currency = checkCurrency(params.string('currency', { required: true })!);
        const amount = params.integer('amount', { required: true })!;
        checkChargeAmount(amount, currency);
        const captureMethod: CaptureMethod =
          params.oneOf('capture_method', CAPTURE_METHODS) ?? 'automatic_async';
        const confirmationMethod =
          params.oneOf('confirmation_method', ['automatic', 'manual'] as const) ?? 'automatic';
        const types = paymentMethodTypes(params);
        const automatic = params.object('automatic_payment_methods', ['enabled', 'allow_redirects']);
        const confirm = params.boolean('confirm') ?? false;
        const metadata = mergeMetadata({}, params.metadata());
        const paymentMethod = chosenPaymentMethod(store, ctx, params);
        if (confirm && !paymentMethod) {
          throw unexpectedState(
            "You cannot confirm this PaymentIntent because it's missing a payment method. Update the PaymentIntent with a payment_method and then confirm it again.",
            'payment_method',
          );
        }
        const id = store.newId('payment_intent');
        const pi = store.insert<PaymentIntentRecord>({
          object: 'payment_intent',
          id,
          account: ctx.account,
          created: ctx.now,
          amount,
          currency,
          status: paymentMethod ? 'requires_confirmation' : 'requires_payment_method',
          capture_method: captureMethod,
          confirmation_method: confirmationMethod,
          client_secret: `${id}_secret_${randomToken(25)}`,
          customer: params.string('customer') ?? null,
          description: params.clearable('description') ?? null,
          metadata,
          payment_method: paymentMethod ?? null,
          payment_method_types: types ?? ['card'],
          automatic_payment_methods: types ? null : { enabled: automatic?.boolean('enabled') ?? true },
          latest_charge: null,
          amount_capturable: 0,
          amount_received: 0,
          canceled_at: null,
          cancellation_reason: null,
          last_payment_error: null,
          next_action: null,
          return_url: params.string('return_url') ?? null,
          extra: storedExtras(params, {}),
          three_ds_token: null,
          three_ds_passed: false,
        });
        store.emit('payment_intent.created', pi, ctx);
        if (!confirm) return { record: pi };
        return confirmWith(input, store, baseUrl, pi, params);
      },
    },
    {
      method: 'GET',
      url: '/v1/payment_intents/:id',
      handle(input) {
        new Params(input.params, ['client_secret']);
        return { record: load(input) };
      },
    },
    {
      method: 'POST',
      url: '/v1/payment_intents/:id',
      handle(input) {
        const params = new Params(input.params, UPDATE_PARAMS);
        const pi = load(input);
        const restricted = Object.keys(input.params).find(
          (key) => !['metadata', 'description', 'expand', 'receipt_email', 'shipping'].includes(key),
        );
        if (restricted && !UPDATABLE.has(pi.status)) {
          throw unexpectedState(
            `This PaymentIntent's ${restricted} could not be updated because it has a status of ${pi.status}. You may only update the ${restricted} of a PaymentIntent with one of the following statuses: ${[...UPDATABLE].join(', ')}.`,
            restricted,
          );
        }
        const currency = params.has('currency') ? checkCurrency(params.string('currency')!) : pi.currency;
        const amount = params.integer('amount') ?? pi.amount;
        checkChargeAmount(amount, currency);
        const paymentMethod = chosenPaymentMethod(store, input.ctx, params);
        const changes: Partial<PaymentIntentRecord> = {
          amount,
          currency,
          capture_method: params.oneOf('capture_method', CAPTURE_METHODS) ?? pi.capture_method,
          customer: params.has('customer') ? (params.clearable('customer') ?? null) : pi.customer,
          description: params.has('description') ? (params.clearable('description') ?? null) : pi.description,
          metadata: mergeMetadata(pi.metadata, params.metadata()),
          payment_method_types: paymentMethodTypes(params) ?? pi.payment_method_types,
          extra: storedExtras(params, pi.extra),
        };
        if (paymentMethod) {
          changes.payment_method = paymentMethod;
          changes.status = 'requires_confirmation';
          changes.next_action = null;
          changes.three_ds_passed = false;
        }
        return { record: store.update(pi, changes) };
      },
    },
    {
      method: 'POST',
      url: '/v1/payment_intents/:id/confirm',
      charges: () => true,
      handle(input) {
        const params = new Params(input.params, [...CONFIRM_PARAMS, 'client_secret']);
        let pi = load(input);
        if (!CONFIRMABLE.has(pi.status)) {
          throw unexpectedState(
            `You cannot confirm this PaymentIntent because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be confirmed: ${[...CONFIRMABLE].join(', ')}.`,
          );
        }
        const paymentMethod = chosenPaymentMethod(store, input.ctx, params);
        pi = store.update(pi, {
          ...(paymentMethod ? { payment_method: paymentMethod, three_ds_passed: false } : {}),
          ...(params.has('return_url') ? { return_url: params.string('return_url') ?? null } : {}),
          capture_method: params.oneOf('capture_method', CAPTURE_METHODS) ?? pi.capture_method,
          extra: storedExtras(params, pi.extra),
        });
        return confirmWith(input, store, baseUrl, pi, params);
      },
    },
    {
      method: 'POST',
      url: '/v1/payment_intents/:id/capture',
      charges: () => true,
      handle(input) {
        const params = new Params(input.params, [
          'amount_to_capture',
          'metadata',
          'final_capture',
          'statement_descriptor',
          'statement_descriptor_suffix',
        ]);
        let pi = load(input);
        const amount = params.integer('amount_to_capture');
        pi = captureIntent(store, input.ctx, pi, amount);
        if (params.has('metadata'))
          pi = store.update(pi, { metadata: mergeMetadata(pi.metadata, params.metadata()) });
        return { record: pi };
      },
    },
    {
      method: 'POST',
      url: '/v1/payment_intents/:id/cancel',
      handle(input) {
        const params = new Params(input.params, ['cancellation_reason']);
        const reason = params.oneOf('cancellation_reason', [
          'duplicate',
          'fraudulent',
          'requested_by_customer',
          'abandoned',
        ] as const);
        return { record: cancelIntent(store, input.ctx, load(input), reason) };
      },
    },
    {
      method: 'GET',
      url: '/v1/payment_intents',
      handle(input) {
        const params = new Params(input.params, [...LIST_PARAMS, 'customer']);
        const customer = params.string('customer');
        return {
          list: listPage(store, 'payment_intent', input.ctx.account, params, '/v1/payment_intents', {
            filter: customer ? (pi) => pi.customer === customer : undefined,
          }),
        };
      },
    },
  ];
}
