// Customers: the first resource through every layer. Deletion is soft (financial records keep their
// customer); a deleted customer reads as Stripe's deleted stub and is left out of lists.
import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { invalidParam, resourceMissing } from '../../http/errors.js';
import type { Scope } from '../../http/expand.js';
import { type ListParams, listObject, paginate } from '../../http/pagination.js';
import { initialMetadata, MetadataLimitError, mergeMetadata } from '../../http/params.js';
import { newId, randomBase62 } from '../../ids.js';
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

export class CustomersService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async create(scope: Scope, input: CustomerInput): Promise<CustomerObject> {
    const row = await insertCustomer(this.db, {
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
    return toCustomerObject(row);
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

  async update(scope: Scope, id: string, input: CustomerInput): Promise<CustomerObject> {
    const row = await this.db.transaction().execute(async (trx) => {
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
      return updateCustomer(trx, scope, id, {
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
    });
    return toCustomerObject(row);
  }

  async delete(scope: Scope, id: string): Promise<DeletedCustomer> {
    await this.db.transaction().execute(async (trx) => {
      const current = await lockCustomer(trx, scope, id);
      if (!current || current.deleted_at) throw resourceMissing('customer', id, 'id');
      await updateCustomer(trx, scope, id, { deleted_at: this.clock.now() });
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
