import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricValue } from './support/jobs.js';
import { createMerchant, startTestService, type TestService } from './support/service.js';
import { expectSameShape, stripeFixtures } from './support/stripe-shape.js';
import { waitFor } from './support/wait.js';
import { type Receiver, startWebhookHarness } from './support/webhook-receiver.js';

let t: TestService;
let receiver: Receiver;
let close = async () => {};
beforeAll(async () => {
  ({ t, receiver, close } = await startWebhookHarness());
});
afterAll(() => close());

type Endpoint = Record<string, unknown> & { id: string; secret?: string; status: string };

async function createEndpoint(params: Record<string, unknown>) {
  const reply = await t.merchant.post<Endpoint>('/v1/webhook_endpoints', params);
  expect(reply.status, reply.text).toBe(200);
  return reply.body;
}

describe('webhook endpoints', () => {
  it('creates (secret once), retrieves, updates, lists and deletes an endpoint', async () => {
    const created = await createEndpoint({
      url: receiver.url,
      enabled_events: ['charge.succeeded', 'payment_intent.*'],
      description: 'orders',
      metadata: { team: 'web' },
    });
    expect(created).toMatchObject({
      object: 'webhook_endpoint',
      status: 'enabled',
      livemode: false,
      application: null,
      enabled_events: ['charge.succeeded', 'payment_intent.*'],
    });
    expect(created.id).toMatch(/^we_/);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(String(created.secret).slice(6), 'base64')).toHaveLength(32);

    const fetched = await t.merchant.get<Endpoint>(`/v1/webhook_endpoints/${created.id}`);
    expect(fetched.body).not.toHaveProperty('secret');
    const { secret: _secret, ...withoutSecret } = created;
    expect(fetched.body).toEqual(withoutSecret);

    const updated = await t.merchant.post<Endpoint>(`/v1/webhook_endpoints/${created.id}`, {
      enabled_events: ['*'],
      metadata: { env: 'prod' },
      disabled: true,
    });
    expect(updated.body).toMatchObject({
      enabled_events: ['*'],
      status: 'disabled',
      metadata: { team: 'web', env: 'prod' },
    });
    expect(updated.body).not.toHaveProperty('secret');
    const enabled = await t.merchant.post<Endpoint>(`/v1/webhook_endpoints/${created.id}`, {
      disabled: false,
    });
    expect(enabled.body.status).toBe('enabled');

    const listed = await t.merchant.get<{ data: Endpoint[]; has_more: boolean }>('/v1/webhook_endpoints', {
      limit: 100,
    });
    expect(listed.body.data.map((e) => e.id)).toContain(created.id);
    expect(listed.body.data.every((e) => !('secret' in e))).toBe(true);

    const deleted = await t.merchant.delete(`/v1/webhook_endpoints/${created.id}`);
    expect(deleted.body).toEqual({ id: created.id, object: 'webhook_endpoint', deleted: true });
    expect((await t.merchant.get(`/v1/webhook_endpoints/${created.id}`)).status).toBe(404);
  });

  it("has the fields, types and nesting of Stripe's webhook endpoint object", async () => {
    const fixtures = stripeFixtures;
    const find = (deleted: boolean) =>
      Object.values(fixtures.resources as Record<string, Record<string, unknown>>).find(
        (o) => o.object === 'webhook_endpoint' && Boolean(o.deleted) === deleted,
      );
    const created = await createEndpoint({
      url: receiver.url,
      enabled_events: ['charge.failed'],
      description: 'x',
    });
    expectSameShape(created, find(false));
    const deleted = await t.merchant.delete(`/v1/webhook_endpoints/${created.id}`);
    expectSameShape(deleted.body, find(true));
  });

  it.each([
    [{ url: 'http://127.0.0.1/x', enabled_events: ['charge.nope'] }, 'enabled_events'],
    [{ url: 'http://127.0.0.1/x', enabled_events: ['nothing.*'] }, 'enabled_events'],
    [{ url: 'http://127.0.0.1/x', enabled_events: [] }, 'enabled_events'],
    [{ url: 'http://127.0.0.1/x' }, 'enabled_events'],
    [{ enabled_events: ['*'] }, 'url'],
    [{ url: 'ftp://example.com/x', enabled_events: ['*'] }, 'url'],
    [{ url: 'http://127.0.0.1/x', enabled_events: ['*'], colour: 'red' }, 'colour'],
  ])('refuses %j with a 400 naming %s and creates nothing', async (params, param) => {
    const before = await t.merchant.get<{ data: unknown[] }>('/v1/webhook_endpoints', { limit: 100 });
    const reply = await t.merchant.post<{ error: { param: string; type: string } }>(
      '/v1/webhook_endpoints',
      params,
    );
    expect(reply.status).toBe(400);
    expect(reply.body.error).toMatchObject({ type: 'invalid_request_error', param });
    const after = await t.merchant.get<{ data: unknown[] }>('/v1/webhook_endpoints', { limit: 100 });
    expect(after.body.data.length).toBe(before.body.data.length);
  });

  it('replays create and rotate_secret with their secret, which idempotency_keys holds only sealed', async () => {
    const headers = { 'Idempotency-Key': `create-${Date.now()}` };
    const params = { url: receiver.url, enabled_events: ['*'] };
    const first = await t.merchant.post<Endpoint>('/v1/webhook_endpoints', params, { headers });
    expect(first.status, first.text).toBe(200);
    const replay = await t.merchant.post<Endpoint>('/v1/webhook_endpoints', params, { headers });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(first.body);
    const rotateHeaders = { 'Idempotency-Key': `rotate-${Date.now()}` };
    const rotated = await t.merchant.post<Endpoint>(
      `/v1/webhook_endpoints/${first.body.id}/rotate_secret`,
      {},
      {
        headers: rotateHeaders,
      },
    );
    expect(rotated.status, rotated.text).toBe(200);
    const rotatedAgain = await t.merchant.post<Endpoint>(
      `/v1/webhook_endpoints/${first.body.id}/rotate_secret`,
      {},
      { headers: rotateHeaders },
    );
    expect(rotatedAgain.body.secret).toBe(rotated.body.secret);
    expect(rotated.body.secret).not.toBe(first.body.secret);
    // Neither secret is readable in the stored answers.
    const stored = await t.service.database.db
      .selectFrom('idempotency_keys')
      .select('response_body')
      .where('key', 'in', [headers['Idempotency-Key'], rotateHeaders['Idempotency-Key']])
      .execute();
    expect(stored).toHaveLength(2);
    for (const row of stored) {
      const text = JSON.stringify(row.response_body);
      expect(text).not.toContain(first.body.secret as string);
      expect(text).not.toContain(rotated.body.secret as string);
      expect(text).toContain('secret_sealed');
    }
    await t.merchant.delete(`/v1/webhook_endpoints/${first.body.id}`);
  });

  it("answers 404 for another merchant's endpoint, on every operation", async () => {
    const created = await createEndpoint({ url: receiver.url, enabled_events: ['*'] });
    const other = await createMerchant(t);
    expect((await other.api.get(`/v1/webhook_endpoints/${created.id}`)).status).toBe(404);
    expect((await other.api.post(`/v1/webhook_endpoints/${created.id}`, { description: 'x' })).status).toBe(
      404,
    );
    expect((await other.api.post(`/v1/webhook_endpoints/${created.id}/rotate_secret`, {})).status).toBe(404);
    expect((await other.api.delete(`/v1/webhook_endpoints/${created.id}`)).status).toBe(404);
    const listed = await other.api.get<{ data: Endpoint[] }>('/v1/webhook_endpoints');
    expect(listed.body.data).toEqual([]);
    await t.merchant.delete(`/v1/webhook_endpoints/${created.id}`);
  });
});

describe('deliveries', () => {
  it('delivers matching events only, each verified by both libraries, with the body GET /v1/events/:id shows', async () => {
    const all = await createEndpoint({ url: `${receiver.url}?all`, enabled_events: ['*'] });
    const customers = await createEndpoint({
      url: `${receiver.url}?customers`,
      enabled_events: ['customer.*'],
    });
    const exact = await createEndpoint({
      url: `${receiver.url}?updated`,
      enabled_events: ['customer.updated'],
    });
    const none = await createEndpoint({ url: `${receiver.url}?none`, enabled_events: ['refund.created'] });
    receiver.verifyWith = [];
    const start = receiver.received.length;
    const customer = await t.merchant.post<{ id: string }>('/v1/customers', { email: 'hook@example.com' });
    await t.merchant.post(`/v1/customers/${customer.body.id}`, { name: 'Hook' });
    const arrivals = () => receiver.received.slice(start);
    await waitFor('five deliveries', () => arrivals().length >= 5);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(arrivals().length).toBe(5);
    const types = arrivals()
      .map((r) => r.event.type)
      .sort();
    expect(types).toEqual([
      'customer.created',
      'customer.created',
      'customer.updated',
      'customer.updated',
      'customer.updated',
    ]);

    for (const arrival of arrivals()) {
      const event = await t.merchant.get(`/v1/events/${arrival.event.id}`);
      expect(arrival.body).toBe(event.text);
      expect(arrival.headers['content-type']).toBe('application/json');
      expect(arrival.headers['user-agent']).toMatch(/payment-service/);
      expect(arrival.id).toMatch(/^msg_/);
    }
    // Verify each with the secret of the endpoint it was sent to, found through the admin API.
    const deliveries = await t.admin.get<{ data: { id: string; endpoint: string }[] }>(
      '/admin/webhook_deliveries',
      { limit: 100 },
    );
    const secretOf = new Map([all, customers, exact].map((e) => [e.id, e.secret as string]));
    const { Webhook } = await import('standardwebhooks');
    const Stripe = (await import('stripe')).default;
    const stripe = new Stripe('sk_test_unused');
    for (const arrival of arrivals()) {
      const endpoint = deliveries.body.data.find((d) => d.id === arrival.id)?.endpoint as string;
      expect(endpoint).not.toBe(none.id);
      const secret = secretOf.get(endpoint) as string;
      const now = Date.now;
      Date.now = () => arrival.clockAt;
      try {
        const headers = Object.fromEntries(Object.entries(arrival.headers).map(([k, v]) => [k, String(v)]));
        expect(new Webhook(secret).verify(arrival.body, headers)).toMatchObject({ id: arrival.event.id });
        expect(
          stripe.webhooks.constructEvent(arrival.body, headers['stripe-signature'] as string, secret).id,
        ).toBe(arrival.event.id);
        expect(() =>
          new Webhook(secretOf.get(endpoint === all.id ? customers.id : all.id) as string).verify(
            arrival.body,
            headers,
          ),
        ).toThrow();
      } finally {
        Date.now = now;
      }
    }
    for (const endpoint of [all, customers, exact, none])
      await t.merchant.delete(`/v1/webhook_endpoints/${endpoint.id}`);
  });

  it('counts deliveries and the outbox on /metrics', async () => {
    const metrics = await t.api.get('/metrics');
    expect(
      metricValue(metrics.text, 'webhook_deliveries_total', { status: 'succeeded' }),
    ).toBeGreaterThanOrEqual(5);
    expect(metricValue(metrics.text, 'webhook_outbox_pending')).toBeTypeOf('number');
    expect(metricValue(metrics.text, 'webhook_outbox_dead')).toBeTypeOf('number');
    expect(metricValue(metrics.text, 'webhook_delivery_lag_seconds_count')).toBeGreaterThanOrEqual(5);
    expect(
      metricValue(metrics.text, 'webhook_delivery_duration_seconds_count', { outcome: '2xx' }),
    ).toBeGreaterThanOrEqual(5);
  });
});

describe('SSRF at create', () => {
  let strict: TestService;
  beforeAll(async () => {
    strict = await startTestService();
  });
  afterAll(async () => {
    await strict?.close();
  });

  it.each([
    'http://127.0.0.1:9/x',
    'http://10.1.2.3/x',
    'http://169.254.169.254/latest/meta-data',
    'http://[::1]:9/x',
  ])('refuses %s when ALLOW_PRIVATE_WEBHOOK_URLS is false', async (url) => {
    const reply = await strict.merchant.post<{ error: { param: string } }>('/v1/webhook_endpoints', {
      url,
      enabled_events: ['*'],
    });
    expect(reply.status).toBe(400);
    expect(reply.body.error.param).toBe('url');
    const listed = await strict.merchant.get<{ data: unknown[] }>('/v1/webhook_endpoints');
    expect(listed.body.data).toEqual([]);
  });
});
