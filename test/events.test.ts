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

type Event = {
  id: string;
  type: string;
  data: { object: { id: string; name?: string }; previous_attributes?: Record<string, unknown> };
  request: { id: string | null; idempotency_key: string | null };
};

describe('events', () => {
  it('records customer.created, customer.updated with previous_attributes, and customer.deleted', async () => {
    const created = await t.merchant.post<{ id: string }>(
      '/v1/customers',
      { name: 'Before' },
      { headers: { 'idempotency-key': 'evt-create-1' } },
    );
    await t.merchant.post(`/v1/customers/${created.body.id}`, { name: 'After' });
    await t.merchant.delete(`/v1/customers/${created.body.id}`);
    const list = await t.merchant.get<{ data: Event[] }>('/v1/events', { limit: 100 });
    const mine = list.body.data.filter((e) => e.data.object.id === created.body.id);
    expect(mine.map((e) => e.type)).toEqual(['customer.deleted', 'customer.updated', 'customer.created']);
    const [, updated, createdEvent] = mine as [Event, Event, Event];
    expect(updated.data.object.name).toBe('After');
    expect(updated.data.previous_attributes).toEqual({ name: 'Before' });
    expect(createdEvent.request).toEqual({
      id: created.headers.get('request-id'),
      idempotency_key: 'evt-create-1',
    });
    const one = await t.merchant.get<Event>(`/v1/events/${createdEvent.id}`);
    expect(one.body).toEqual(createdEvent);
  });

  it("matches Stripe's event object", async () => {
    const fixtures = stripeFixtures;
    await t.merchant.post('/v1/customers', { name: 'Shape' });
    const list = await t.merchant.get<{ data: Event[] }>('/v1/events', { limit: 1 });
    const { data: _data, ...event } = list.body.data[0] as Event;
    const { data: _fixtureData, ...fixture } = fixtures.resources.event as Record<string, unknown>;
    expectSameShape(event, fixture);
  });

  it('filters by type and types[], refusing both at once', async () => {
    await t.merchant.post('/v1/customers', { name: 'Filter' });
    const created = await t.merchant.get<{ data: Event[] }>('/v1/events', { type: 'customer.created' });
    expect(created.body.data.length).toBeGreaterThan(0);
    expect(created.body.data.every((e) => e.type === 'customer.created')).toBe(true);
    const several = await t.merchant.get<{ data: Event[] }>('/v1/events', {
      types: ['customer.created', 'customer.deleted'],
    });
    expect(several.body.data.every((e) => ['customer.created', 'customer.deleted'].includes(e.type))).toBe(
      true,
    );
    const both = await t.merchant.get<{ error: { param: string } }>('/v1/events', {
      type: 'a',
      types: ['b'],
    });
    expect(both.status).toBe(400);
    expect(both.body.error.param).toBe('types');
  });

  it('writes no event when the change fails, and hides events from other merchants', async () => {
    const before = await t.merchant.get<{ data: Event[] }>('/v1/events', { limit: 100 });
    const failed = await t.merchant.post('/v1/customers', { email: 'bad' });
    expect(failed.status).toBe(400);
    const after = await t.merchant.get<{ data: Event[] }>('/v1/events', { limit: 100 });
    expect(after.body.data.length).toBe(before.body.data.length);
    const other = await createMerchant(t, 'Event snoop');
    const first = before.body.data[0] as Event;
    expect((await other.api.get(`/v1/events/${first.id}`)).status).toBe(404);
    expect((await other.api.get<{ data: Event[] }>('/v1/events')).body.data).toEqual([]);
  });
});
