// Customers: the first resource through every layer. Deletion is soft (financial records keep their
// customer); a deleted customer reads as Stripe's deleted stub and is left out of lists.
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { invalidParam, resourceMissing } from '../../http/errors.js';
import type { Scope } from '../../http/expand.js';
import { type ListParams, listObject, paginate } from '../../http/pagination.js';
import { initialMetadata, MetadataLimitError, mergeMetadata } from '../../http/params.js';
import { newId, randomBase62 } from '../../ids.js';
import type { EventsService } from '../events/events.service.js';
import {
  type CustomerInput,
  type CustomerObject,
  type DeletedCustomer,
  toCustomerObject,
  toStoredAddress,
  toStoredShipping,
} from './customers.js';
import {
  customerCreatedAt,
  customersQuery,
  findCustomer,
  insertCustomer,
  lockCustomer,
  updateCustomer,
} from './customers.repository.js';

const json = (value: unknown) => JSON.stringify(value);

export interface RequestRef {
  id?: string | undefined;
  idempotencyKey?: string | undefined;
}

/** Stripe's previous_attributes: the top-level fields that changed, with their old values. */
function changedFields(before: Record<string, unknown>, after: Record<string, unknown>) {
  const previous: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(before)) {
    if (JSON.stringify(value) !== JSON.stringify(after[key])) previous[key] = value;
  }
  return previous;
}

export class CustomersService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly events: EventsService,
  ) {}

  async create(scope: Scope, input: CustomerInput, request?: RequestRef): Promise<CustomerObject> {
    return this.db.transaction().execute(async (trx) => {
      const customer = toCustomerObject(await this.insert(trx, scope, input));
      await this.events.record(trx, scope, { type: 'customer.created', object: customer, request });
      return customer;
    });
  }

  private insert(trx: Transaction<Database>, scope: Scope, input: CustomerInput) {
    return insertCustomer(trx, {
      id: newId('cus', 14),
      merchant_id: scope.merchantId,
      livemode: scope.livemode,
      created_at: this.clock.now(),
      email: input.email ?? null,
      name: input.name ?? null,
      phone: input.phone ?? null,
      description: input.description ?? null,
      metadata: json(initialMetadata(input.metadata)),
      address: json(toStoredAddress(input.address) ?? null),
      shipping: json(toStoredShipping(input.shipping) ?? null),
      preferred_locales: json(input.preferred_locales ?? []),
      invoice_prefix: randomBase62(8).toUpperCase(),
      tax_exempt: input.tax_exempt ?? 'none',
    });
  }

  async retrieve(scope: Scope, id: string): Promise<CustomerObject | DeletedCustomer> {
    const row = await findCustomer(this.db, scope, id);
    if (!row) throw resourceMissing('customer', id, 'id');
    if (row.deleted_at) return { id: row.id, object: 'customer', deleted: true };
    return toCustomerObject(row);
  }

  /** For expansion: the live object, or null when it is missing or deleted. */
  async find(scope: Scope, id: string): Promise<CustomerObject | null> {
    const row = await findCustomer(this.db, scope, id);
    return row && !row.deleted_at ? toCustomerObject(row) : null;
  }

  async update(
    scope: Scope,
    id: string,
    input: CustomerInput,
    request?: RequestRef,
  ): Promise<CustomerObject> {
    return this.db.transaction().execute(async (trx) => {
      const current = await lockCustomer(trx, scope, id);
      if (!current || current.deleted_at) throw resourceMissing('customer', id, 'id');
      let merged: Record<string, string>;
      try {
        merged = mergeMetadata(current.metadata, input.metadata);
      } catch (error) {
        if (error instanceof MetadataLimitError) throw invalidParam('metadata', error.message);
        throw error;
      }
      const address = toStoredAddress(input.address);
      const shipping = toStoredShipping(input.shipping);
      const before = toCustomerObject(current);
      const row = await updateCustomer(trx, scope, id, {
        ...(input.email !== undefined ? { email: input.email } : {}),
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.phone !== undefined ? { phone: input.phone } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.tax_exempt !== undefined ? { tax_exempt: input.tax_exempt } : {}),
        ...(input.preferred_locales !== undefined
          ? { preferred_locales: json(input.preferred_locales) }
          : {}),
        ...(address !== undefined ? { address: json(address) } : {}),
        ...(shipping !== undefined ? { shipping: json(shipping) } : {}),
        metadata: json(merged),
      });
      const after = toCustomerObject(row);
      const previous = changedFields(before, after);
      if (Object.keys(previous).length > 0) {
        await this.events.record(trx, scope, {
          type: 'customer.updated',
          object: after,
          previousAttributes: previous,
          request,
        });
      }
      return after;
    });
  }

  async delete(scope: Scope, id: string, request?: RequestRef): Promise<DeletedCustomer> {
    await this.db.transaction().execute(async (trx) => {
      const current = await lockCustomer(trx, scope, id);
      if (!current || current.deleted_at) throw resourceMissing('customer', id, 'id');
      await updateCustomer(trx, scope, id, { deleted_at: this.clock.now() });
      await this.events.record(trx, scope, {
        type: 'customer.deleted',
        object: toCustomerObject(current),
        request,
      });
    });
    return { id, object: 'customer', deleted: true };
  }

  async list(scope: Scope, params: ListParams & { email?: string | undefined }) {
    const page = await paginate(customersQuery(this.db, scope, params), params, (id) =>
      customerCreatedAt(this.db, scope, id),
    );
    return listObject('/v1/customers', page.rows.map(toCustomerObject), page.hasMore);
  }
}
