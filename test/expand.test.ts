// expand[] is built once in the HTTP layer and works on every retrieve and list: here through a payment
// method's customer, on a retrieve, on a list (data.customer), on a write, and never across merchants.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMerchant, startTestService, type TestService } from './support/service.js';

let t: TestService;
let customerId: string;
let paymentMethodId: string;

beforeAll(async () => {
  t = await startTestService();
  const customer = await t.merchant.post<{ id: string }>('/v1/customers', {
    name: 'Expanded',
    email: 'x@example.com',
  });
  customerId = customer.body.id;
  const pm = await t.merchant.post<{ id: string }>('/v1/payment_methods', {
    type: 'card',
    card: { number: '4242424242424242', exp_month: '12', exp_year: '2034', cvc: '123' },
  });
  paymentMethodId = pm.body.id;
  const attached = await t.merchant.post(`/v1/payment_methods/${paymentMethodId}/attach`, {
    customer: customerId,
  });
  expect(attached.status).toBe(200);
});
afterAll(async () => {
  await t.close();
});

type PaymentMethod = { id: string; customer: string | { id: string; object: string; name: string } | null };

describe('expand[]', () => {
  it('leaves ids as ids without expand', async () => {
    const reply = await t.merchant.get<PaymentMethod>(`/v1/payment_methods/${paymentMethodId}`);
    expect(reply.body.customer).toBe(customerId);
  });

  it('replaces an id with the object on retrieve (query string expand[])', async () => {
    const reply = await t.merchant.get<PaymentMethod>(`/v1/payment_methods/${paymentMethodId}`, {
      expand: ['customer'],
    });
    expect(reply.status).toBe(200);
    expect(reply.body.customer).toMatchObject({ id: customerId, object: 'customer', name: 'Expanded' });
  });

  it('expands data.* on lists', async () => {
    const reply = await t.merchant.get<{ data: PaymentMethod[] }>('/v1/payment_methods', {
      customer: customerId,
      type: 'card',
      expand: ['data.customer'],
    });
    expect(reply.body.data.map((pm) => (pm.customer as { id: string }).id)).toEqual([customerId]);
  });

  it('expands the result of a write, from a form body and from JSON', async () => {
    const form = await t.merchant.post<PaymentMethod>(`/v1/payment_methods/${paymentMethodId}`, {
      metadata: { k: 'v' },
      expand: ['customer'],
    });
    expect(form.body.customer).toMatchObject({ id: customerId, object: 'customer' });
    const json = await t.merchant.post<PaymentMethod>(
      `/v1/payment_methods/${paymentMethodId}`,
      { metadata: { k: 'w' }, expand: ['customer'] },
      { as: 'json' },
    );
    expect(json.body.customer).toMatchObject({ id: customerId, object: 'customer' });
  });

  it('refuses a path that is not expandable, naming expand, and a list path without data.', async () => {
    const unknown = await t.merchant.get<{ error: { param: string } }>(
      `/v1/payment_methods/${paymentMethodId}`,
      {
        expand: ['card'],
      },
    );
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.param).toBe('expand');
    const tooDeep = await t.merchant.get<{ error: { param: string } }>(
      `/v1/payment_methods/${paymentMethodId}`,
      {
        expand: ['customer.a.b.c.d'],
      },
    );
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.body.error.param).toBe('expand');
  });

  it("never expands into another merchant's data", async () => {
    const other = await createMerchant(t, 'Expand thief');
    const reply = await other.api.get(`/v1/payment_methods/${paymentMethodId}`, { expand: ['customer'] });
    expect(reply.status).toBe(404);
  });
});
