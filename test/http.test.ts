// The HTTP layer every resource shares: Stripe-shaped errors for every failure, request ids, form and
// JSON bodies decoding to one canonical object, list pagination and its bad inputs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './support/service.js';

let t: TestService;
beforeAll(async () => {
  t = await startTestService({ env: { BODY_LIMIT_BYTES: '4096' } });
});
afterAll(async () => {
  await t.close();
});

type ErrorBody = { error: { type: string; code?: string; message: string; param?: string } };
type Customer = Record<string, unknown> & { id: string; created: number };
type List = { object: 'list'; data: Customer[]; has_more: boolean; url: string };

async function raw(method: string, path: string, body: string | undefined, headers: Record<string, string>) {
  const response = await fetch(`${t.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${t.secretKey}`, ...headers },
    body,
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as ErrorBody };
}

async function customerCount(): Promise<number> {
  let count = 0;
  let after: string | undefined;
  for (;;) {
    const page = await t.merchant.get<List>('/v1/customers', {
      limit: 100,
      ...(after ? { starting_after: after } : {}),
    });
    count += page.body.data.length;
    if (!page.body.has_more) return count;
    after = page.body.data.at(-1)?.id;
  }
}

describe('errors', () => {
  it('answers an unknown route with a Stripe-shaped 404 and a request id', async () => {
    const reply = await t.merchant.get<ErrorBody>('/v1/nothing-here');
    expect(reply.status).toBe(404);
    expect(reply.body.error).toMatchObject({
      type: 'invalid_request_error',
      message: expect.stringContaining('/v1/nothing-here'),
    });
    expect(reply.headers.get('request-id')).toMatch(/^req_[A-Za-z0-9]+$/);
  });

  it('gives every response its own request id', async () => {
    const a = await t.merchant.get('/v1/customers');
    const b = await t.merchant.get('/v1/customers');
    expect(a.headers.get('request-id')).toMatch(/^req_/);
    expect(a.headers.get('request-id')).not.toBe(b.headers.get('request-id'));
  });

  it.each([
    ['malformed JSON', '{"email": ', { 'content-type': 'application/json' }, 400, 'invalid_json'],
    [
      'an unsupported content type',
      'email=a@b.co',
      { 'content-type': 'text/plain' },
      415,
      'unsupported_content_type',
    ],
    [
      'an oversized body',
      `description=${'x'.repeat(8000)}`,
      { 'content-type': 'application/x-www-form-urlencoded' },
      413,
      'body_too_large',
    ],
  ])('refuses %s with a clear 4xx and creates nothing', async (_case, body, headers, status, code) => {
    const before = await customerCount();
    const reply = await raw('POST', '/v1/customers', body, headers);
    expect(reply.status).toBe(status);
    expect(reply.body.error).toMatchObject({ type: 'invalid_request_error', code });
    expect(JSON.stringify(reply.body)).not.toMatch(/\n\s+at /);
    expect(await customerCount()).toBe(before);
  });

  it('names an unknown parameter, including nested ones in bracket notation', async () => {
    const top = await t.merchant.post<ErrorBody>('/v1/customers', { colour: 'blue' });
    expect(top.status).toBe(400);
    expect(top.body.error).toMatchObject({ code: 'parameter_unknown', param: 'colour' });
    const nested = await t.merchant.post<ErrorBody>('/v1/customers', {
      address: { line1: 'x', planet: 'Mars' },
    });
    expect(nested.body.error).toMatchObject({ code: 'parameter_unknown', param: 'address[planet]' });
  });

  it('sets Stripe-Should-Retry: false where a retry cannot help', async () => {
    const reply = await t.merchant.post('/v1/customers', { colour: 'blue' });
    expect(reply.headers.get('stripe-should-retry')).toBe('false');
  });
});

describe('form and JSON bodies', () => {
  it('decode the same parameters to the same object', async () => {
    const params = {
      email: 'same@example.com',
      name: 'Same Person',
      metadata: { order_id: '6735', count: '3' },
      address: { line1: '1 Main St', city: 'Paris', country: 'FR' },
      preferred_locales: ['fr', 'en'],
      shipping: { name: 'Same Person', address: { line1: '1 Main St', country: 'FR' } },
    };
    const form = await t.merchant.post<Customer>('/v1/customers', params, { as: 'form' });
    const json = await t.merchant.post<Customer>('/v1/customers', params, { as: 'json' });
    expect(form.status).toBe(200);
    expect(json.status).toBe(200);
    const comparable = ({ id: _id, created: _created, invoice_prefix: _prefix, ...rest }: Customer) => rest;
    expect(comparable(form.body)).toEqual(comparable(json.body));
  });

  it('accepts JSON numbers and form strings for integers alike, and refuses non-integers in both', async () => {
    const formLimit = await t.merchant.get<List>('/v1/customers', { limit: '2' });
    expect(formLimit.body.data.length).toBeLessThanOrEqual(2);
    for (const limit of ['abc', '1.5', '1e2', '0', '101', '1000', '-1']) {
      const reply = await t.merchant.get<ErrorBody>('/v1/customers', { limit });
      expect(reply.status, `limit=${limit}`).toBe(400);
      expect(reply.body.error).toMatchObject({ type: 'invalid_request_error', param: 'limit' });
    }
  });

  it('reads expand[] from both encodings and refuses what cannot be expanded, naming expand', async () => {
    const created = await t.merchant.post<Customer>('/v1/customers', { name: 'Expand' });
    const formReply = await t.merchant.get<ErrorBody>(`/v1/customers/${created.body.id}`, {
      expand: ['nonsense'],
    });
    expect(formReply.status).toBe(400);
    expect(formReply.body.error).toMatchObject({
      param: 'expand',
      message: expect.stringContaining('nonsense'),
    });
    const jsonReply = await t.merchant.post<ErrorBody>(
      `/v1/customers/${created.body.id}`,
      { expand: ['nonsense'] },
      { as: 'json' },
    );
    expect(jsonReply.status).toBe(400);
    expect(jsonReply.body.error.param).toBe('expand');
  });
});

describe('pagination', () => {
  let batch: Customer[];
  let batchTag: string;

  beforeAll(async () => {
    batchTag = `page-${Date.now()}`;
    batch = [];
    // Created back to back: many share a `created` second, which is what the (created, id) order is for.
    for (let i = 0; i < 25; i++) {
      const reply = await t.merchant.post<Customer>('/v1/customers', { email: `${batchTag}@example.com` });
      batch.push(reply.body);
    }
  });

  it('objects created in the same second really do share a created value', () => {
    expect(new Set(batch.map((c) => c.created)).size).toBeLessThan(batch.length);
  });

  it('walks forward with starting_after: every object once, newest first', async () => {
    const seen: Customer[] = [];
    let after: string | undefined;
    const hasMore: boolean[] = [];
    for (;;) {
      const page = await t.merchant.get<List>('/v1/customers', {
        email: `${batchTag}@example.com`,
        limit: 10,
        ...(after ? { starting_after: after } : {}),
      });
      expect(page.body).toMatchObject({ object: 'list', url: '/v1/customers' });
      seen.push(...page.body.data);
      hasMore.push(page.body.has_more);
      if (!page.body.has_more) break;
      after = page.body.data.at(-1)?.id;
    }
    expect(hasMore).toEqual([true, true, false]);
    expect(seen.map((c) => c.id)).toEqual([...batch].reverse().map((c) => c.id));
  });

  it('walks backward with ending_before to the same order', async () => {
    const oldest = batch[0] as Customer;
    const seen: Customer[] = [];
    let before = oldest.id;
    for (;;) {
      const page = await t.merchant.get<List>('/v1/customers', {
        email: `${batchTag}@example.com`,
        limit: 10,
        ending_before: before,
      });
      seen.unshift(...page.body.data);
      if (!page.body.has_more) break;
      before = page.body.data[0]?.id as string;
    }
    expect([...seen, oldest].map((c) => c.id)).toEqual([...batch].reverse().map((c) => c.id));
  });

  it('filters by created[gt|gte|lt|lte] on whole seconds', async () => {
    const tag = `created-${Date.now()}`;
    const first = await t.merchant.post<Customer>('/v1/customers', { email: `${tag}@example.com` });
    await t.api.post('/_test/clock', { advance_seconds: 100 });
    const second = await t.merchant.post<Customer>('/v1/customers', { email: `${tag}@example.com` });
    const ids = async (created: Record<string, number> | number) =>
      (await t.merchant.get<List>('/v1/customers', { email: `${tag}@example.com`, created })).body.data.map(
        (c) => c.id,
      );
    expect(await ids({ gt: first.body.created })).toEqual([second.body.id]);
    expect(await ids({ gte: first.body.created })).toEqual([second.body.id, first.body.id]);
    expect(await ids({ lt: second.body.created })).toEqual([first.body.id]);
    expect(await ids({ lte: second.body.created })).toEqual([second.body.id, first.body.id]);
    expect(await ids(first.body.created)).toEqual([first.body.id]);
  });

  it.each([
    [{ starting_after: 'cus_doesnotexist' }, 'starting_after'],
    [{ ending_before: 'cus_doesnotexist' }, 'ending_before'],
    [{ starting_after: 'x', ending_before: 'y' }, 'ending_before'],
    [{ created: { gt: 'yesterday' } }, 'created[gt]'],
    [{ created: { after: 1 } }, 'created[after]'],
  ])('refuses a bad cursor or filter %j naming the parameter', async (query, param) => {
    const reply = await t.merchant.get<ErrorBody>('/v1/customers', query);
    expect(reply.status).toBe(400);
    expect(reply.body.error.param).toBe(param);
  });

  it("will not page with another merchant's object as the cursor", async () => {
    const { createMerchant } = await import('./support/service.js');
    const other = await createMerchant(t, 'Cursor thief');
    const reply = await other.api.get<ErrorBody>('/v1/customers', { starting_after: batch[0]?.id });
    expect(reply.status).toBe(400);
    expect(reply.body.error.param).toBe('starting_after');
  });
});
