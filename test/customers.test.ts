import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMerchant, startTestService, type TestService } from './support/service.js';
import { expectSameShape, stripeFixtures } from './support/stripe-shape.js';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t.close();
});

type Customer = Record<string, unknown> & { id: string; metadata: Record<string, string> };

describe('customers', () => {
  it('creates, retrieves, updates, lists and deletes a customer', async () => {
    const created = await t.merchant.post<Customer>('/v1/customers', {
      email: 'jenny@example.com',
      name: 'Jenny Rosen',
      metadata: { order: '42' },
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ object: 'customer', email: 'jenny@example.com', livemode: false });
    expect(created.body.id).toMatch(/^cus_/);

    const fetched = await t.merchant.get<Customer>(`/v1/customers/${created.body.id}`);
    expect(fetched.body).toEqual(created.body);

    const updated = await t.merchant.post<Customer>(`/v1/customers/${created.body.id}`, {
      name: 'Jenny R.',
      metadata: { tier: 'gold' },
    });
    expect(updated.body.name).toBe('Jenny R.');
    expect(updated.body.email).toBe('jenny@example.com');
    expect(updated.body.metadata).toEqual({ order: '42', tier: 'gold' });

    const listed = await t.merchant.get<{ data: Customer[] }>('/v1/customers', {
      email: 'jenny@example.com',
    });
    expect(listed.body.data.map((c) => c.id)).toEqual([created.body.id]);

    const deleted = await t.merchant.delete(`/v1/customers/${created.body.id}`);
    expect(deleted.body).toEqual({ id: created.body.id, object: 'customer', deleted: true });
    const afterDelete = await t.merchant.get(`/v1/customers/${created.body.id}`);
    expect(afterDelete.body).toEqual({ id: created.body.id, object: 'customer', deleted: true });
    const listedAfter = await t.merchant.get<{ data: Customer[] }>('/v1/customers', {
      email: 'jenny@example.com',
    });
    expect(listedAfter.body.data).toEqual([]);
    const deleteAgain = await t.merchant.delete(`/v1/customers/${created.body.id}`);
    expect(deleteAgain.status).toBe(404);
  });

  it("has the fields, types and nesting of Stripe's customer object", async () => {
    const fixtures = stripeFixtures;
    const created = await t.merchant.post<Customer>('/v1/customers', {
      email: 'shape@example.com',
      address: { line1: '1 Main St', city: 'Springfield', country: 'US' },
    });
    expectSameShape(created.body, fixtures.resources.customer);
    const deleted = await t.merchant.delete(`/v1/customers/${created.body.id}`);
    expectSameShape(deleted.body, fixtures.resources.deleted_customer);
  });

  it('merges metadata, removes a key given "", and clears all with metadata=""', async () => {
    const created = await t.merchant.post<Customer>('/v1/customers', { metadata: { a: '1', b: '2' } });
    const removed = await t.merchant.post<Customer>(`/v1/customers/${created.body.id}`, {
      metadata: { a: '' },
    });
    expect(removed.body.metadata).toEqual({ b: '2' });
    const cleared = await t.merchant.post<Customer>(`/v1/customers/${created.body.id}`, { metadata: '' });
    expect(cleared.body.metadata).toEqual({});
  });

  it.each([
    ['too many keys', Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])), 'metadata'],
    ['a key over 40 characters', { ['k'.repeat(41)]: 'v' }, `metadata[${'k'.repeat(41)}]`],
    ['a value over 500 characters', { k: 'v'.repeat(501) }, 'metadata[k]'],
  ])(
    'refuses metadata with %s, naming the parameter and creating nothing',
    async (_case, metadata, param) => {
      const before = await t.merchant.get<{ data: unknown[] }>('/v1/customers', { limit: 100 });
      const reply = await t.merchant.post<{ error: Record<string, string> }>('/v1/customers', { metadata });
      expect(reply.status).toBe(400);
      expect(reply.body.error).toMatchObject({ type: 'invalid_request_error', param });
      const after = await t.merchant.get<{ data: unknown[] }>('/v1/customers', { limit: 100 });
      expect(after.body.data.length).toBe(before.body.data.length);
    },
  );

  it('refuses an update that would take metadata over 50 keys, changing nothing', async () => {
    const first = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`a${i}`, 'v']));
    const second = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`b${i}`, 'v']));
    const created = await t.merchant.post<Customer>('/v1/customers', { metadata: first });
    const reply = await t.merchant.post<{ error: Record<string, string> }>(
      `/v1/customers/${created.body.id}`,
      {
        metadata: second,
      },
    );
    expect(reply.status).toBe(400);
    expect(reply.body.error.param).toBe('metadata');
    const fetched = await t.merchant.get<Customer>(`/v1/customers/${created.body.id}`);
    expect(Object.keys(fetched.body.metadata)).toHaveLength(30);
  });

  it("answers 404 for another merchant's customer and for the other mode, changing nothing", async () => {
    const created = await t.merchant.post<Customer>('/v1/customers', { name: 'Mine' });
    const other = await createMerchant(t);
    for (const call of [
      () => other.api.get(`/v1/customers/${created.body.id}`),
      () => other.api.post(`/v1/customers/${created.body.id}`, { name: 'Stolen' }),
      () => other.api.delete(`/v1/customers/${created.body.id}`),
    ]) {
      const reply = await call();
      expect(reply.status).toBe(404);
      expect(reply.body).toMatchObject({
        error: { type: 'invalid_request_error', code: 'resource_missing', param: 'id' },
      });
    }
    const liveKey = await t.admin.post<{ secret: string }>('/admin/keys', {
      merchant: t.merchantId,
      livemode: true,
    });
    const live = t.api.withKey(liveKey.body.secret);
    expect((await live.get(`/v1/customers/${created.body.id}`)).status).toBe(404);
    const liveList = await live.get<{ data: Customer[] }>('/v1/customers');
    expect(liveList.body.data).toEqual([]);
    const mine = await t.merchant.get<Customer>(`/v1/customers/${created.body.id}`);
    expect(mine.body.name).toBe('Mine');
  });

  it('refuses read-only and unknown fields', async () => {
    for (const [field, value] of [
      ['id', 'cus_mine'],
      ['livemode', 'true'],
      ['created', '1'],
      ['nickname', 'x'],
    ] as const) {
      const reply = await t.merchant.post<{ error: Record<string, string> }>('/v1/customers', {
        [field]: value,
      });
      expect(reply.status).toBe(400);
      expect(reply.body.error).toMatchObject({ code: 'parameter_unknown', param: field });
    }
  });

  it('refuses a malformed email naming the parameter', async () => {
    const reply = await t.merchant.post<{ error: Record<string, string> }>('/v1/customers', {
      email: 'not-an-email',
    });
    expect(reply.status).toBe(400);
    expect(reply.body.error.param).toBe('email');
  });
});
