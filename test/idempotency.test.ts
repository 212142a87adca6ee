// Idempotency-Key semantics (DESIGN section 5), exercised on customers: replay, reuse refused, keys that
// stay free, concurrency, the lease of a crashed request, and expiry after 72 hours.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureServiceSecret } from '../src/db/service-secrets.js';
import { HASH_SECRET_NAME } from '../src/http/idempotency.js';
import { createMerchant, startTestService, type TestService } from './support/service.js';
import { waitFor } from './support/wait.js';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t.close();
});

type Customer = { id: string; email: string | null; name: string | null };
type ErrorBody = { error: { type: string; code: string; message: string; param?: string } };
const withKey = (key: string) => ({ headers: { 'idempotency-key': key } });

async function countByEmail(email: string): Promise<number> {
  const reply = await t.merchant.get<{ data: unknown[] }>('/v1/customers', { email, limit: 100 });
  return reply.body.data.length;
}

describe('Idempotency-Key', () => {
  it('replays the stored response with Idempotent-Replayed and creates once', async () => {
    const key = randomUUID();
    const email = `${key}@example.com`;
    const first = await t.merchant.post<Customer>('/v1/customers', { email }, withKey(key));
    const second = await t.merchant.post<Customer>('/v1/customers', { email }, withKey(key));
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(second.status).toBe(200);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    expect(await countByEmail(email)).toBe(1);
  });

  it('treats the same parameters sent as a form and as JSON as the same request', async () => {
    const key = randomUUID();
    const params = { email: `${key}@example.com`, metadata: { a: '1', b: '2' } };
    const form = await t.merchant.post<Customer>('/v1/customers', params, { ...withKey(key), as: 'form' });
    const json = await t.merchant.post<Customer>(
      '/v1/customers',
      { metadata: { b: '2', a: '1' }, email: params.email },
      { ...withKey(key), as: 'json' },
    );
    expect(json.headers.get('idempotent-replayed')).toBe('true');
    expect(json.body.id).toBe(form.body.id);
  });

  it('refuses the same key with other parameters or on another endpoint, changing nothing', async () => {
    const key = randomUUID();
    const first = await t.merchant.post<Customer>(
      '/v1/customers',
      { email: `${key}@example.com` },
      withKey(key),
    );
    const otherParams = await t.merchant.post<ErrorBody>(
      '/v1/customers',
      { email: `x${key}@example.com` },
      withKey(key),
    );
    expect(otherParams.status).toBe(400);
    expect(otherParams.body.error.type).toBe('idempotency_error');
    expect(await countByEmail(`x${key}@example.com`)).toBe(0);
    const otherEndpoint = await t.merchant.post<ErrorBody>(
      `/v1/customers/${first.body.id}`,
      { name: 'n' },
      withKey(key),
    );
    expect(otherEndpoint.status).toBe(400);
    expect(otherEndpoint.body.error.type).toBe('idempotency_error');
    const fetched = await t.merchant.get<Customer>(`/v1/customers/${first.body.id}`);
    expect(fetched.body.name).toBeNull();
  });

  it('does not store a validation 400: the key stays free for the corrected request', async () => {
    const key = randomUUID();
    const bad = await t.merchant.post<ErrorBody>('/v1/customers', { email: 'not-an-email' }, withKey(key));
    expect(bad.status).toBe(400);
    const good = await t.merchant.post<Customer>(
      '/v1/customers',
      { email: `${key}@example.com` },
      withKey(key),
    );
    expect(good.status).toBe(200);
    expect(good.headers.get('idempotent-replayed')).toBeNull();
  });

  it('stores an execution-time 404 and replays it', async () => {
    const key = randomUUID();
    const first = await t.merchant.post<ErrorBody>('/v1/customers/cus_missing', { name: 'x' }, withKey(key));
    expect(first.status).toBe(404);
    const again = await t.merchant.post<ErrorBody>('/v1/customers/cus_missing', { name: 'x' }, withKey(key));
    expect(again.status).toBe(404);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
  });

  it('refuses a key longer than 255 characters', async () => {
    const reply = await t.merchant.post<ErrorBody>('/v1/customers', { name: 'x' }, withKey('k'.repeat(256)));
    expect(reply.status).toBe(400);
    expect(reply.body.error.type).toBe('idempotency_error');
  });

  it('scopes keys by merchant and by mode', async () => {
    const key = randomUUID();
    const other = await createMerchant(t, 'Same key, other merchant');
    const mine = await t.merchant.post<Customer>('/v1/customers', { name: 'mine' }, withKey(key));
    const theirs = await other.api.post<Customer>('/v1/customers', { name: 'theirs' }, withKey(key));
    expect(theirs.status).toBe(200);
    expect(theirs.body.id).not.toBe(mine.body.id);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
  });

  it('executes once under 20 concurrent requests with one key; the rest replay or get 409', async () => {
    const key = randomUUID();
    const email = `${key}@example.com`;
    const replies = await Promise.all(
      Array.from({ length: 20 }, () =>
        t.merchant.post<Customer | ErrorBody>('/v1/customers', { email }, withKey(key)),
      ),
    );
    const statuses = replies.map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 409)).toBe(true);
    const ids = new Set(replies.filter((r) => r.status === 200).map((r) => (r.body as Customer).id));
    expect(ids.size).toBe(1);
    for (const reply of replies.filter((r) => r.status === 409)) {
      expect((reply.body as ErrorBody).error.code).toBe('idempotency_key_in_use');
    }
    expect(await countByEmail(email)).toBe(1);
  });

  it('answers a retry after a crashed request (expired lease) as interrupted, never executing twice', async () => {
    const key = randomUUID();
    const scope = { merchantId: t.merchantId, livemode: false };
    // A request that took the key and died before answering: its lease is all that is left.
    await t.service.database.db
      .insertInto('idempotency_keys')
      .values({
        merchant_id: scope.merchantId,
        livemode: false,
        key,
        created_at: t.service.clock.now(),
        endpoint: 'POST /v1/customers {}',
        request_hash: (await import('../src/http/idempotency.js')).canonicalHash(
          { name: 'crashed' },
          await ensureServiceSecret(t.service.database.db, t.service.clock, HASH_SECRET_NAME),
        ),
        locked_until: new Date(t.service.clock.now().getTime() + 90_000),
        recovery_point: 'started',
      })
      .execute();
    const during = await t.merchant.post<ErrorBody>('/v1/customers', { name: 'crashed' }, withKey(key));
    expect(during.status).toBe(409);
    await t.api.post('/_test/clock', { advance_seconds: 91 });
    const after = await t.merchant.post<ErrorBody>('/v1/customers', { name: 'crashed' }, withKey(key));
    expect(after.status).toBe(500);
    expect(after.body.error.code).toBe('request_interrupted');
    const list = await t.merchant.get<{ data: Customer[] }>('/v1/customers', { limit: 100 });
    expect(list.body.data.some((c) => c.name === 'crashed')).toBe(false);
  });

  it('keeps no plain hash of the parameters, so a stored key reveals nothing about a card number', async () => {
    const { createHash } = await import('node:crypto');
    const { canonicalJson } = await import('../src/http/idempotency.js');
    const key = randomUUID();
    const params = {
      type: 'card',
      card: { number: '4242424242424242', exp_month: 12, exp_year: 2034, cvc: '123' },
    };
    const reply = await t.merchant.post('/v1/payment_methods', params, withKey(key));
    expect(reply.status).toBe(200);
    const row = await t.service.database.db
      .selectFrom('idempotency_keys')
      .select(['request_hash', 'response_body'])
      .where('key', '=', key)
      .executeTakeFirstOrThrow();
    // An unkeyed SHA-256 of the canonical parameters could be brute-forced back to the card number.
    const plain = createHash('sha256')
      .update(canonicalJson({ ...params, card: { ...params.card, exp_month: 12 } }))
      .digest('hex');
    expect(row.request_hash).not.toBe(plain);
    expect(JSON.stringify(row.response_body)).not.toContain('4242424242424242');
    const replay = await t.merchant.post('/v1/payment_methods', params, withKey(key));
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const changed = await t.merchant.post(
      '/v1/payment_methods',
      { ...params, card: { ...params.card, number: '5555555555554444' } },
      withKey(key),
    );
    expect(changed.status).toBe(400);
  });

  it('forgets keys after 72 hours: the purge job deletes them and the key can be used afresh', async () => {
    const key = randomUUID();
    const first = await t.merchant.post<Customer>('/v1/customers', { name: 'old' }, withKey(key));
    await t.api.post('/_test/clock', { advance_seconds: 72 * 3600 + 700 });
    await waitFor('the purge job to delete the key', async () => {
      const row = await t.service.database.db
        .selectFrom('idempotency_keys')
        .select('key')
        .where('key', '=', key)
        .executeTakeFirst();
      return row === undefined;
    });
    const again = await t.merchant.post<Customer>('/v1/customers', { name: 'old' }, withKey(key));
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    expect(again.body.id).not.toBe(first.body.id);
  });
});
