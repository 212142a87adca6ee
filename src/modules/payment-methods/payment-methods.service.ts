// Payment methods: card details are checked, the card goes to the vault in the same transaction as
// its payment method row, and only display data (brand, last 4, expiry, fingerprint) stays here.
// Stripe's test ids (pm_card_visa, ...) read as payment methods in test mode; attaching one makes a
// stored copy, as Stripe does. In live mode they do not exist and sandbox card numbers are refused.
import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { AppError, invalidParam, missingParam, resourceMissing } from '../../http/errors.js';
import type { Scope } from '../../http/expand.js';
import { type ListParams, listObject, paginate } from '../../http/pagination.js';
import { initialMetadata, MetadataLimitError, mergeMetadata } from '../../http/params.js';
import { newId } from '../../ids.js';
import type { CustomersService } from '../customers/customers.service.js';
import type { EventsService } from '../events/events.service.js';
import { Secret } from '../vault/secret.js';
import type { VaultService } from '../vault/vault.service.js';
import { checkExpiry } from './cards.js';
import { type NewCard, storeNewCard } from './new-card.js';
import {
  addressChecks,
  type CreateInput,
  mergeBillingDetails,
  type PaymentMethodObject,
  toPaymentMethodObject,
  type UpdateInput,
} from './payment-methods.js';
import {
  customerPaymentMethodsQuery,
  findPaymentMethod,
  insertPaymentMethod,
  lockPaymentMethod,
  updatePaymentMethod,
} from './payment-methods.repository.js';
import { isCardRow, type PaymentMethodRow } from './payment-methods.table.js';
import { type ResolvedPaymentMethod, resolved } from './resolved.js';
import { TEST_PAYMENT_METHODS } from './sandbox-cards.js';
import { testPaymentMethodRow } from './test-ids.js';

const json = (value: unknown) => JSON.stringify(value);

export interface RequestRef {
  id?: string | undefined;
  idempotencyKey?: string | undefined;
}

const unexpectedState = (message: string) =>
  new AppError(400, 'invalid_request_error', 'payment_method_unexpected_state', message, {
    shouldRetry: false,
  });

function changedFields(before: Record<string, unknown>, after: Record<string, unknown>) {
  const previous: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(before)) {
    if (JSON.stringify(value) !== JSON.stringify(after[key])) previous[key] = value;
  }
  return previous;
}

export class PaymentMethodsService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly events: EventsService,
    private readonly vault: VaultService,
    private readonly customers: CustomersService,
  ) {}

  private get cardDeps() {
    return { clock: this.clock, vault: this.vault };
  }

  async create(scope: Scope, input: CreateInput): Promise<PaymentMethodObject> {
    if (input.type === 'paypal') {
      if (input.card) throw invalidParam('card', 'card cannot be given for a payment method of type paypal.');
      return toPaymentMethodObject(await this.storePayPal(scope, input));
    }
    if (!input.card) throw missingParam('card');
    const details = mergeBillingDetails(undefined, input.billing_details);
    const row = await this.db.transaction().execute((trx) =>
      storeNewCard(this.cardDeps, trx, scope, input.card as NewCard, {
        billing_details: json(details),
        metadata: json(initialMetadata(input.metadata)),
        allow_redisplay: input.allow_redisplay ?? 'unspecified',
        ...addressChecks(details),
      }),
    );
    return toPaymentMethodObject(row);
  }

  /**
   * A PayPal payment method (POST /v1/payment_methods type=paypal, or a payment intent's
   * payment_method_data[type]=paypal): no card and nothing secret; the payer approves at PayPal.
   */
  async storePayPal(
    scope: Scope,
    input: Pick<CreateInput, 'billing_details' | 'metadata' | 'allow_redisplay'>,
  ): Promise<PaymentMethodRow> {
    return insertPaymentMethod(this.db, {
      id: newId('pm'),
      merchant_id: scope.merchantId,
      livemode: scope.livemode,
      type: 'paypal',
      created_at: this.clock.now(),
      customer_id: null,
      detached_at: null,
      billing_details: json(mergeBillingDetails(undefined, input.billing_details)),
      metadata: json(initialMetadata(input.metadata)),
      allow_redisplay: input.allow_redisplay ?? 'unspecified',
      card_brand: null,
      card_last4: null,
      card_exp_month: null,
      card_exp_year: null,
      card_fingerprint: null,
      card_fingerprint_key: null,
      card_funding: null,
      card_country: null,
      card_cvc_check: null,
      card_address_line1_check: null,
      card_address_postal_code_check: null,
      paypal: json({ country: null, payer_email: null, payer_id: null }),
    });
  }

  private async row(scope: Scope, id: string): Promise<PaymentMethodRow> {
    const row =
      testPaymentMethodRow(this.cardDeps, scope, id) ?? (await findPaymentMethod(this.db, scope, id));
    if (!row) throw resourceMissing('payment_method', id, 'payment_method');
    return row;
  }

  async retrieve(scope: Scope, id: string): Promise<PaymentMethodObject> {
    return toPaymentMethodObject(await this.row(scope, id));
  }

  /** For expansion: the object, or null when it is not this merchant's in this mode. */
  async find(scope: Scope, id: string): Promise<PaymentMethodObject | null> {
    const row =
      testPaymentMethodRow(this.cardDeps, scope, id) ?? (await findPaymentMethod(this.db, scope, id));
    return row ? toPaymentMethodObject(row) : null;
  }

  async update(scope: Scope, id: string, input: UpdateInput, request?: RequestRef) {
    if (testPaymentMethodRow(this.cardDeps, scope, id))
      throw unexpectedState(`${id} is a shared test payment method and cannot be updated.`);
    return this.db.transaction().execute(async (trx) => {
      const current = await lockPaymentMethod(trx, scope, id);
      if (!current) throw resourceMissing('payment_method', id, 'payment_method');
      let metadata: Record<string, string>;
      try {
        metadata = mergeMetadata(current.metadata, input.metadata);
      } catch (error) {
        if (error instanceof MetadataLimitError) throw invalidParam('metadata', error.message);
        throw error;
      }
      const cardChange = input.card?.exp_month !== undefined || input.card?.exp_year !== undefined;
      if (cardChange && !isCardRow(current)) {
        throw invalidParam('card', `${id} is a ${current.type} payment method and has no card to update.`);
      }
      const expiry =
        cardChange && isCardRow(current)
          ? checkExpiry(
              input.card?.exp_month ?? current.card_exp_month,
              input.card?.exp_year ?? current.card_exp_year,
              this.clock.now(),
            )
          : undefined;
      const details = mergeBillingDetails(current.billing_details, input.billing_details);
      const before = toPaymentMethodObject(current);
      const row = await updatePaymentMethod(trx, scope, id, {
        metadata: json(metadata),
        billing_details: json(details),
        ...addressChecks(details),
        ...(input.allow_redisplay ? { allow_redisplay: input.allow_redisplay } : {}),
        ...(expiry ? { card_exp_month: expiry.month, card_exp_year: expiry.year } : {}),
      });
      const after = toPaymentMethodObject(row);
      const previous = changedFields(before, after);
      if (Object.keys(previous).length > 0) {
        await this.events.record(trx, scope, {
          type: 'payment_method.updated',
          object: after,
          previousAttributes: previous,
          request,
        });
      }
      return after;
    });
  }

  async attach(scope: Scope, id: string, customerId: string, request?: RequestRef) {
    const customer = await this.customers.find(scope, customerId);
    if (!customer) throw resourceMissing('customer', customerId, 'customer');
    const test = testPaymentMethodRow(this.cardDeps, scope, id);
    return this.db.transaction().execute(async (trx) => {
      let row: PaymentMethodRow;
      if (test) {
        // Stripe attaches a copy of the shared test card; the copy is a stored payment method.
        const number = TEST_PAYMENT_METHODS[id] as string;
        row = await storeNewCard(
          this.cardDeps,
          trx,
          scope,
          { number, exp_month: test.card_exp_month as number, exp_year: test.card_exp_year as number },
          {
            billing_details: json(test.billing_details),
            metadata: json({}),
            allow_redisplay: 'unspecified',
            card_address_line1_check: null,
            card_address_postal_code_check: null,
            customer_id: customerId,
          },
        );
      } else {
        const current = await lockPaymentMethod(trx, scope, id);
        if (!current) throw resourceMissing('payment_method', id, 'payment_method');
        if (current.customer_id === customerId) return toPaymentMethodObject(current);
        if (current.detached_at) {
          throw unexpectedState(
            'This PaymentMethod was previously detached from a Customer and cannot be reused.',
          );
        }
        if (current.customer_id) {
          throw unexpectedState('The payment method you provided has already been attached to a customer.');
        }
        row = await updatePaymentMethod(trx, scope, id, { customer_id: customerId });
      }
      const object = toPaymentMethodObject(row);
      await this.events.record(trx, scope, { type: 'payment_method.attached', object, request });
      return object;
    });
  }

  async detach(scope: Scope, id: string, request?: RequestRef) {
    if (testPaymentMethodRow(this.cardDeps, scope, id))
      throw unexpectedState(`${id} is not attached to a customer.`);
    return this.db.transaction().execute(async (trx) => {
      const current = await lockPaymentMethod(trx, scope, id);
      if (!current) throw resourceMissing('payment_method', id, 'payment_method');
      if (!current.customer_id) throw unexpectedState('The payment method is not attached to a customer.');
      const row = await updatePaymentMethod(trx, scope, id, {
        customer_id: null,
        detached_at: this.clock.now(),
      });
      // A detached card cannot be used again, so a CVC held for it has no purpose left.
      await this.vault.deleteCvc(scope, id, trx);
      const object = toPaymentMethodObject(row);
      await this.events.record(trx, scope, {
        type: 'payment_method.detached',
        object,
        previousAttributes: { customer: current.customer_id },
        request,
      });
      return object;
    });
  }

  async list(scope: Scope, params: ListParams & { customer?: string | undefined }) {
    if (!params.customer) throw missingParam('customer');
    const customerId = params.customer;
    if (!(await this.customers.find(scope, customerId)))
      throw resourceMissing('customer', customerId, 'customer');
    const page = await paginate(
      customerPaymentMethodsQuery(this.db, scope, customerId),
      params,
      async (id) => {
        return (await findPaymentMethod(this.db, scope, id))?.created_at;
      },
    );
    return listObject('/v1/payment_methods', page.rows.map(toPaymentMethodObject), page.hasMore);
  }

  /**
   * For payments: a stored payment method or a test id (test mode) with its display data, and a way to
   * get the full card number and CVC for the provider call. Null when the id is not visible to the scope.
   */
  async resolvePaymentMethod(scope: Scope, id: string): Promise<ResolvedPaymentMethod | null> {
    const test = testPaymentMethodRow(this.cardDeps, scope, id);
    if (test) {
      const number = TEST_PAYMENT_METHODS[id] as string;
      return resolved(test, true, async () => ({ number: new Secret(number), cvc: null }));
    }
    const row = await findPaymentMethod(this.db, scope, id);
    if (!row) return null;
    return resolved(row, false, async (purpose) => ({
      number: (await this.vault.reveal(scope, id, purpose)).number,
      cvc: await this.vault.takeCvc(scope, id, purpose),
    }));
  }
}
