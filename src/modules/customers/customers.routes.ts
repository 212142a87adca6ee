// HTTP surface of customers: Stripe's five operations under /v1/customers.

import { listParams } from '../../http/pagination.js';
import { text } from '../../http/params.js';
import type { Router } from '../../http/route.js';
import { customerFields, customerListFilters } from './customers.js';
import type { CustomersService } from './customers.service.js';

const byId = { id: text(255) };

export function registerCustomerRoutes(router: Router, customers: CustomersService): void {
  const tags = ['Customers'];
  router.merchant({
    method: 'POST',
    url: '/v1/customers',
    summary: 'Create a customer',
    tags,
    auth: 'secret',
    scope: 'customers:write',
    input: customerFields,
    handler: ({ merchant, input, info, idempotency }) =>
      customers.create(merchant, input, { id: info.requestId, idempotencyKey: idempotency?.key }),
  });
  router.merchant({
    method: 'GET',
    url: '/v1/customers/:id',
    summary: 'Retrieve a customer',
    tags,
    auth: 'secret',
    scope: 'customers:read',
    params: byId,
    handler: ({ merchant, params }) => customers.retrieve(merchant, params.id),
  });
  router.merchant({
    method: 'POST',
    url: '/v1/customers/:id',
    summary: 'Update a customer',
    tags,
    auth: 'secret',
    scope: 'customers:write',
    params: byId,
    input: customerFields,
    handler: ({ merchant, params, input, info, idempotency }) =>
      customers.update(merchant, params.id, input, { id: info.requestId, idempotencyKey: idempotency?.key }),
  });
  router.merchant({
    method: 'DELETE',
    url: '/v1/customers/:id',
    summary: 'Delete a customer',
    tags,
    auth: 'secret',
    scope: 'customers:write',
    params: byId,
    handler: ({ merchant, params, info }) => customers.delete(merchant, params.id, { id: info.requestId }),
  });
  router.merchant({
    method: 'GET',
    url: '/v1/customers',
    summary: 'List customers, newest first',
    tags,
    auth: 'secret',
    scope: 'customers:read',
    input: { ...listParams, ...customerListFilters },
    handler: ({ merchant, input }) => customers.list(merchant, input),
  });
}
