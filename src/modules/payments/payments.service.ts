// Payment intents without the provider: create, update, retrieve, list, search. Confirmation, capture
// and cancel (which talk to providers) live in payment-flows.ts. Amount rules are checked against the
// currency table here so every refusal names its parameter and nothing is written (invariant 9).
import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { AppError, resourceMissing } from '../../http/errors.js';
import type { Scope } from '../../http/expand.js';
import { type ListParams, listObject, paginate } from '../../http/pagination.js';
import { initialMetadata, MetadataLimitError, mergeMetadata } from '../../http/params.js';
import { newId, randomBase62 } from '../../ids.js';
import { amountProblem } from '../../money/currencies.js';
import type { CustomersService } from '../customers/customers.service.js';
import type { EventsService } from '../events/events.service.js';
import { findPaymentMethod } from '../payment-methods/payment-methods.repository.js';
import { TEST_PAYMENT_METHODS } from '../payment-methods/sandbox-cards.js';
import { assertCanApply } from './payment-intent.states.js';
import {
  type CreateInput,
  PAYMENT_METHOD_TYPES,
  type PaymentIntentObject,
  STORED_ONLY_FIELDS,
  toPaymentIntentObject,
  type UpdateInput,
} from './payment-intents.js';
import { findIntent, insertIntent, intentsQuery, lockIntent, updateIntent } from './payments.repository.js';
import type { PaymentIntentRow } from './payments.table.js';
import { parseSearchQuery } from './search.js';
import type { RequestRef } from './settlement.js';

const json = (value: unknown) => JSON.stringify(value);

/**
 * A refused parameter. Every refusal here comes before anything is written, so the Idempotency-Key stays
 * free and the corrected request can reuse it (DESIGN section 5: validation errors are not stored).
 */
const refusedParam = (param: string, message: string, code = 'parameter_invalid') =>
  new AppError(400, 'invalid_request_error', code, message, {
    param,
    shouldRetry: false,
    releasesIdempotencyKey: true,
  });

/** A parameter naming an object this merchant's mode does not have: a 404, and the key stays free. */
const missingObject = (objectName: string, id: string, param: string) => {
  const error = resourceMissing(objectName, id, param);
  return new AppError(error.status, error.type, error.code, error.message, {
    ...error.details,
    shouldRetry: false,
    releasesIdempotencyKey: true,
  });
};

/** Refuses an amount the currency cannot carry, naming `param` (DESIGN section 9). */
export function assertAmount(amount: number, currency: string, param = 'amount'): void {
  const problem = amountProblem(amount, currency);
  if (!problem) return;
  const code = currency.toUpperCase();
  switch (problem.kind) {
    case 'unknown_currency':
      throw refusedParam('currency', `Invalid currency: ${currency}. It must be a supported ISO 4217 code.`);
    case 'not_integer':
      throw refusedParam(param, `${param} must be an integer number of minor units.`, 'amount_invalid');
    case 'below_minimum':
      throw refusedParam(
        param,
        `Amount must be at least ${problem.minimum} ${code} minor units.`,
        'amount_too_small',
      );
    case 'above_maximum':
      throw refusedParam(
        param,
        `Amount must be no more than ${problem.maximum} ${code} minor units.`,
        'amount_too_large',
      );
    case 'three_decimal_multiple_of_ten':
      throw refusedParam(
        param,
        `${code} has three decimals; card amounts in it must be a multiple of 10 minor units.`,
        'amount_invalid',
      );
  }
}

function paymentMethodTypes(
  input: { payment_method_types?: string[] | undefined; allowed_payment_method_types?: string[] | undefined },
  param?: string,
) {
  const given = input.payment_method_types ?? input.allowed_payment_method_types;
  if (given === undefined) return undefined;
  const name =
    param ?? (input.payment_method_types ? 'payment_method_types' : 'allowed_payment_method_types');
  if (given.length === 0) throw refusedParam(name, `${name} must name at least one payment method type.`);
  for (const type of given) {
    if (!(PAYMENT_METHOD_TYPES as readonly string[]).includes(type)) {
      throw refusedParam(
        name,
        `The payment method type "${type}" is invalid or not supported (supported: ${PAYMENT_METHOD_TYPES.join(', ')}).`,
        'payment_intent_invalid_parameter',
      );
    }
  }
  return [...new Set(given)];
}

/** What the provider-side attempt was made with; changing any of them changes the payment itself. */
const PAYMENT_FIELDS = [
  'amount',
  'currency',
  'payment_method',
  'payment_method_types',
  'capture_method',
] as const;

/**
 * An intent in requires_action has a live attempt at the provider waiting for the shopper (3DS): the
 * shopper can still approve it, and the provider then charges what the attempt was made with. Changing
 * the payment underneath would record a charge for an amount the intent no longer has, and let a second
 * confirmation charge again (invariant 2). Metadata, description and the stored-only fields may change.
 */
function assertNoPaymentChange(input: UpdateInput, current: PaymentIntentRow): void {
  const field = PAYMENT_FIELDS.find((name) => input[name] !== undefined);
  if (!field) return;
  throw new AppError(
    400,
    'invalid_request_error',
    'payment_intent_unexpected_state',
    `You cannot update ${field} while this PaymentIntent has a status of requires_action: the customer ` +
      'is authenticating the payment as it is. Wait for the outcome, or cancel it and create another.',
    { param: field, payment_intent: { id: current.id, status: current.status }, shouldRetry: false },
  );
}

function extraOf(
  input: Record<string, unknown>,
  current: Record<string, unknown> = {},
): Record<string, unknown> {
  const extra = { ...current };
  for (const field of STORED_ONLY_FIELDS) if (input[field] !== undefined) extra[field] = input[field];
  return extra;
}

function mergedMetadata(current: Record<string, string>, update: UpdateInput['metadata']) {
  try {
    return mergeMetadata(current, update);
  } catch (error) {
    if (error instanceof MetadataLimitError) throw refusedParam('metadata', error.message);
    throw error;
  }
}

export class PaymentsService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly events: EventsService,
    private readonly customers: CustomersService,
  ) {}

  /** Checks a create before anything is written; returns the row to insert. */
  async prepareCreate(scope: Scope, input: CreateInput) {
    assertAmount(input.amount, input.currency);
    if (input.payment_method_types && input.allowed_payment_method_types) {
      throw refusedParam(
        'allowed_payment_method_types',
        'Pass payment_method_types or allowed_payment_method_types, not both.',
      );
    }
    if (
      input.automatic_payment_methods?.enabled &&
      (input.payment_method_types || input.allowed_payment_method_types)
    ) {
      throw refusedParam(
        'automatic_payment_methods',
        'automatic_payment_methods cannot be enabled together with payment_method_types.',
      );
    }
    if (input.customer !== undefined) await this.assertCustomer(scope, input.customer);
    if (input.payment_method !== undefined) await this.assertPaymentMethod(scope, input.payment_method);
    const types = paymentMethodTypes(input) ?? ['card'];
    const id = newId('pi');
    return {
      id,
      merchant_id: scope.merchantId,
      livemode: scope.livemode,
      created_at: this.clock.now(),
      amount: input.amount,
      currency: input.currency,
      status: input.payment_method
        ? ('requires_confirmation' as const)
        : ('requires_payment_method' as const),
      capture_method: input.capture_method ?? 'automatic_async',
      customer_id: input.customer ?? null,
      payment_method_id: input.payment_method ?? null,
      payment_method_types: json(types),
      automatic_payment_methods: json(
        input.automatic_payment_methods
          ? { enabled: input.automatic_payment_methods.enabled }
          : input.payment_method_types || input.allowed_payment_method_types
            ? null
            : { enabled: true },
      ),
      description: input.description ?? null,
      metadata: json(initialMetadata(input.metadata)),
      return_url: input.return_url ?? null,
      shopper_ip: input.shopper_ip ?? null,
      client_secret: `${id}_secret_${randomBase62(25)}`,
      last_payment_error: json(null),
      next_action: json(null),
      extra: json({
        ...extraOf(input),
        ...(input.confirmation_method ? { confirmation_method: input.confirmation_method } : {}),
      }),
    };
  }

  async create(scope: Scope, input: CreateInput, request?: RequestRef): Promise<PaymentIntentObject> {
    const row = await this.prepareCreate(scope, input);
    return this.db.transaction().execute(async (trx) => {
      const intent = toPaymentIntentObject(await insertIntent(trx, row));
      await this.events.record(trx, scope, { type: 'payment_intent.created', object: intent, request });
      return intent;
    });
  }

  private async assertCustomer(scope: Scope, id: string): Promise<void> {
    if (!(await this.customers.find(scope, id))) throw missingObject('customer', id, 'customer');
  }

  /**
   * A payment method named on create or update must exist in this merchant's mode, as on Stripe; without
   * this check an intent would be stored pointing at another merchant's (or the other mode's) method and
   * a create-and-confirm would leave that intent behind its 404. Test ids exist in test mode only.
   */
  private async assertPaymentMethod(scope: Scope, id: string): Promise<void> {
    if (!scope.livemode && Object.hasOwn(TEST_PAYMENT_METHODS, id)) return;
    if (!(await findPaymentMethod(this.db, scope, id))) {
      throw missingObject('payment_method', id, 'payment_method');
    }
  }

  async retrieve(scope: Scope, id: string): Promise<PaymentIntentObject> {
    return toPaymentIntentObject(await this.row(scope, id));
  }

  async row(scope: Scope, id: string, param = 'id'): Promise<PaymentIntentRow> {
    const row = await findIntent(this.db, scope, id);
    if (!row) throw resourceMissing('payment_intent', id, param);
    return row;
  }

  async find(scope: Scope, id: string): Promise<PaymentIntentObject | null> {
    const row = await findIntent(this.db, scope, id);
    return row ? toPaymentIntentObject(row) : null;
  }

  async update(
    scope: Scope,
    id: string,
    input: UpdateInput,
    request?: RequestRef,
  ): Promise<PaymentIntentObject> {
    if (input.customer !== undefined) await this.assertCustomer(scope, input.customer);
    if (input.payment_method !== undefined) await this.assertPaymentMethod(scope, input.payment_method);
    const types = paymentMethodTypes(input, 'payment_method_types');
    return this.db.transaction().execute(async (trx) => {
      const current = await lockIntent(trx, scope, id);
      if (!current) throw resourceMissing('payment_intent', id, 'id');
      assertCanApply('update', current.status, id);
      const awaitingShopper = current.status === 'requires_action';
      if (awaitingShopper) assertNoPaymentChange(input, current);
      const amount = input.amount ?? current.amount;
      const currency = input.currency ?? current.currency;
      if (input.amount !== undefined || input.currency !== undefined) assertAmount(amount, currency);
      const paymentMethod = input.payment_method ?? current.payment_method_id;
      const row = await updateIntent(trx, id, {
        amount,
        currency,
        ...(input.customer !== undefined ? { customer_id: input.customer } : {}),
        ...(input.payment_method !== undefined ? { payment_method_id: input.payment_method } : {}),
        ...(types ? { payment_method_types: json(types), automatic_payment_methods: json(null) } : {}),
        ...(input.capture_method !== undefined ? { capture_method: input.capture_method } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        metadata: json(mergedMetadata(current.metadata, input.metadata)),
        extra: json(extraOf(input, current.extra)),
        // Stripe: changing the payment method (or having one) means the intent waits for confirmation.
        // An intent waiting for the shopper keeps its status and next_action: its attempt is still live.
        ...(awaitingShopper
          ? {}
          : {
              status: paymentMethod
                ? ('requires_confirmation' as const)
                : ('requires_payment_method' as const),
              next_action: json(null),
            }),
      });
      const before = toPaymentIntentObject(current);
      const after = toPaymentIntentObject(row);
      const previous: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(before)) {
        if (JSON.stringify(value) !== JSON.stringify(after[key as keyof typeof after])) previous[key] = value;
      }
      if (Object.keys(previous).length > 0) {
        await this.events.record(trx, scope, {
          type: 'payment_intent.updated',
          object: after,
          previousAttributes: previous,
          request,
        });
      }
      return after;
    });
  }

  async list(scope: Scope, params: ListParams & { customer?: string | undefined }) {
    const page = await paginate(
      intentsQuery(this.db, scope, params),
      params,
      async (id) => (await findIntent(this.db, scope, id))?.created_at,
    );
    return listObject('/v1/payment_intents', page.rows.map(toPaymentIntentObject), page.hasMore);
  }

  /** Stripe's search: `metadata['k']:'v'` clauses (AND), plus status/currency/customer equality. */
  async search(
    scope: Scope,
    input: { query: string; limit?: number | undefined; page?: string | undefined },
  ) {
    const limit = input.limit ?? 10;
    const clauses = parseSearchQuery(input.query);
    let query = intentsQuery(this.db, scope, {});
    for (const clause of clauses) {
      if (clause.field === 'metadata') {
        query = query.where('metadata', '@>', json({ [clause.key]: clause.value }) as never);
      } else {
        const column = clause.field === 'customer' ? 'customer_id' : clause.field;
        query = query.where(column, '=', clause.value);
      }
    }
    const offset = input.page ? Number(input.page) : 0;
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .offset(offset)
      .limit(limit + 1)
      .execute();
    const hasMore = rows.length > limit;
    return {
      object: 'search_result' as const,
      data: rows.slice(0, limit).map(toPaymentIntentObject),
      has_more: hasMore,
      next_page: hasMore ? String(offset + limit) : null,
      url: '/v1/payment_intents/search',
    };
  }
}
