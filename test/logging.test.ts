// Request logging: one JSON line per request carrying the Request-Id the client saw, no key or card data
// in any line, and no stack trace in any HTTP body (the stack goes to the log only).
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createService } from '../src/main.js';
import { createLogger } from '../src/observability/logger.js';
import { createTestDatabase } from './support/postgres.js';
import { startTestService, type TestService, testDatabaseKind } from './support/service.js';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t?.close();
});

const CARD_NUMBER = '4242424242424242';
const CVC = '987';
const STACK_FRAME = /\n\s+at\s|\bat .+:\d+:\d+/;

function linesFor(requestId: string | null) {
  return t.logs.filter((line) => line.request_id === requestId || line.reqId === requestId);
}

describe('request logging', () => {
  it('writes one line per request with the request id from the Request-Id header', async () => {
    const created = await t.merchant.post<{ id: string }>('/v1/customers', { name: 'Logged' });
    const fetched = await t.merchant.get(`/v1/customers/${created.body.id}`);
    const missing = await t.api.get('/v1/customers');
    for (const [reply, route, status] of [
      [created, '/v1/customers', 200],
      [fetched, '/v1/customers/:id', 200],
      [missing, '/v1/customers', 401],
    ] as const) {
      const requestId = reply.headers.get('request-id');
      expect(requestId).toMatch(/^req_/);
      const lines = linesFor(requestId);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ msg: 'request completed', route, status, level: 'info' });
      expect(typeof lines[0]?.duration_ms).toBe('number');
    }
    const ids = [created, fetched, missing].map((reply) => reply.headers.get('request-id'));
    expect(new Set(ids).size).toBe(3);
  });

  it('never logs the API key, card number or CVC a request carried', async () => {
    const body = {
      card: { number: CARD_NUMBER, cvc: CVC, exp_month: 12, exp_year: 2040 },
      number: CARD_NUMBER,
    };
    const replies = await Promise.all([
      t.merchant.post('/v1/customers', body, { as: 'json' }),
      t.merchant.post('/v1/payment_methods', { type: 'card', card: body.card }, { as: 'json' }),
      t.merchant.post('/v1/customers', { name: 'x', cvc: CVC, number: CARD_NUMBER }),
      // A malformed body still must not echo the card into the log.
      t.merchant.request('POST', '/v1/customers', undefined, {
        headers: { 'content-type': 'application/json', 'x-card': CARD_NUMBER },
      }),
      t.api.get('/v1/customers', undefined, { key: `sk_test_${'Z'.repeat(24)}${CARD_NUMBER}` }),
    ]);
    for (const reply of replies) expect(reply.status).toBeLessThan(500);
    const serialized = JSON.stringify(t.logs);
    expect(t.logs.length).toBeGreaterThan(0);
    expect(serialized).not.toContain(t.secretKey);
    expect(serialized).not.toContain(t.secretKey.slice(8));
    expect(serialized).not.toContain(CARD_NUMBER);
    expect(serialized).not.toContain(`"${CVC}"`);
    expect(serialized).not.toContain('Bearer');
  });

  it('masks card numbers and keys inside logged error messages and stacks', () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    });
    const secret = `sk_live_${'a1B2'.repeat(6)}`;
    logger.error(
      { err: new Error(`invalid input "${CARD_NUMBER}" for key ${secret}`), card: { number: CARD_NUMBER } },
      'request failed',
    );
    logger.warn({ detail: { cvc: CVC, authorization: `Bearer ${secret}` } }, 'nested');
    logger.error(new Error(`card ${CARD_NUMBER.replace(/(\d{4})/g, '$1 ').trim()} declined`));
    const text = lines.join('');
    expect(text).toContain('request failed');
    expect(text).toContain('424242');
    expect(text).not.toContain(CARD_NUMBER);
    expect(text).not.toContain(secret);
    expect(text).not.toContain('4242 4242 4242 4242');
    expect(text).not.toContain(`"${CVC}"`);
  });
});

describe('error bodies', () => {
  it('never carry a stack trace, for 4xx and unknown routes', async () => {
    const replies = await Promise.all([
      t.api.get('/no/such/route'),
      t.merchant.get('/v1/customers/cus_missing'),
      t.merchant.post('/v1/customers', { nickname: 'x' }),
      t.merchant.request('POST', '/v1/customers', '{"broken', {
        headers: { 'content-type': 'application/json' },
      }),
      t.api.get('/v1/customers', undefined, { key: 'sk_test_wrong' }),
    ]);
    expect(replies.map((reply) => reply.status)).toEqual([404, 404, 400, 400, 401]);
    for (const reply of replies) {
      expect(reply.body).toHaveProperty('error.type');
      expect(reply.text).not.toMatch(STACK_FRAME);
      expect(reply.headers.get('request-id')).toMatch(/^req_/);
    }
  });

  it('answers an unexpected failure with a Stripe-shaped 500 and logs the stack instead', async () => {
    // A table gone missing underneath the service is a bug-shaped failure, not a database outage.
    await sql`alter table customers rename to customers_elsewhere`.execute(t.service.database.db);
    let reply: Awaited<ReturnType<typeof t.merchant.get>>;
    try {
      reply = await t.merchant.get('/v1/customers');
    } finally {
      await sql`alter table customers_elsewhere rename to customers`.execute(t.service.database.db);
    }
    expect(reply.status).toBe(500);
    expect(reply.body).toEqual({
      error: {
        type: 'api_error',
        code: 'internal_error',
        message: expect.stringMatching(/unexpected/),
      },
    });
    expect(reply.text).not.toMatch(STACK_FRAME);
    expect(reply.text).not.toContain('customers');
    const requestId = reply.headers.get('request-id');
    const failure = linesFor(requestId).find((line) => line.msg === 'request failed');
    expect(failure?.level).toBe('error');
    expect(JSON.stringify(failure?.err)).toMatch(STACK_FRAME);
    expect((await t.merchant.get('/v1/customers')).status).toBe(200);
  });
});

// The raw lines are driver-independent; checking them once keeps the embedded run short.
describe.runIf(testDatabaseKind() === 'postgres')('raw log lines', () => {
  it('are single JSON objects without repeated keys', async () => {
    const raw: string[] = [];
    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk, _encoding, done) {
          raw.push(...chunk.toString().split('\n').filter(Boolean));
          done();
        },
      }),
    });
    const database = await createTestDatabase();
    const service = await createService(
      loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: database.url, LOG_LEVEL: 'info' }),
      { role: 'api', logger },
    );
    try {
      const { url } = await service.start();
      const reply = await fetch(`${url}/v1/customers`);
      expect(reply.status).toBe(401);
      const line = raw.find((text) => text.includes(String(reply.headers.get('request-id'))));
      expect(line).toBeDefined();
      expect(line?.match(/"request_id":/g)).toHaveLength(1);
      // A repeated key is dropped by JSON.parse, so the line would re-serialize shorter.
      for (const text of raw) expect(JSON.stringify(JSON.parse(text)), text).toBe(text);
    } finally {
      await service.close();
      await database.drop();
    }
  });
});
