// Bad input to payment intents (invariant 9): every refusal is a Stripe-shaped 4xx that names the
// parameter, and nothing changes: no payment intent, attempt or charge row, no charge at the emulator.
// Amounts, currencies, read-only fields, captures, states, cards, live mode, tenancy and 3DS without a
// return_url. Last, no answer in this file carries a stack trace.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api, Reply, RequestOptions } from './support/http.js';
import { createMerchant, startTestService, type TestService } from './support/service.js';
import { waitFor } from './support/wait.js';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await webhooksDelivered();
  await t.close();
});

type Intent = Record<string, unknown> & { id: string; status: string; amount_capturable: number };
type ErrorBody = {
  error: Record<string, unknown> & { type: string; code?: string; message: string; param?: string };
};

/** Every answer this file received, for the stack-trace and error-shape checks at the end. */
const answers: Reply<unknown>[] = [];
async function post<T = ErrorBody>(
  api: Api,
  path: string,
  body?: Record<string, unknown>,
  options?: RequestOptions,
) {
  const reply = await api.post<T>(path, body, options);
  answers.push(reply);
  return reply;
}
async function get<T = ErrorBody>(api: Api, path: string) {
  const reply = await api.get<T>(path);
  answers.push(reply);
  return reply;
}

const year = new Date().getUTCFullYear() + 3;
const card = (number: string, extra: Record<string, unknown> = {}) => ({
  type: 'card',
  card: { number, exp_month: 12, exp_year: year, cvc: '123', ...extra },
});

type EmulatorState = { counts: { charges: number }; webhooks: { queued: number; in_flight: number } };
async function emulatorState(): Promise<EmulatorState> {
  const url = t.service.providers.emulators.stripe?.url;
  if (!url) throw new Error('the embedded Stripe emulator is not running');
  return (await (await fetch(`${url}/_emulator/state?types=none`)).json()) as EmulatorState;
}
async function emulatorCharges(): Promise<number> {
  return (await emulatorState()).counts.charges;
}

/**
 * Waits until the emulator's webhooks to us are all answered: a webhook still in flight when the
 * service closes keeps its keep-alive connection open past the hook timeout (reported).
 */
async function webhooksDelivered(): Promise<void> {
  await waitFor('the emulator to finish delivering webhooks', async () => {
    const { webhooks } = await emulatorState();
    return webhooks.queued === 0 && webhooks.in_flight === 0;
  });
}

/** Rows that any payment change would add or alter, and the emulator's charges. */
async function snapshot() {
  const db = t.service.database.db;
  const count = async (table: 'payment_intents' | 'payment_attempts' | 'charges' | 'payment_methods') =>
    Number(
      (await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(db)).rows[0]?.n,
    );
  const intents = await sql<{ digest: string }>`
    select coalesce(string_agg(id || ':' || status || ':' || amount || ':' || amount_capturable || ':' ||
      amount_received, ',' order by id), '') as digest from payment_intents`.execute(db);
  return {
    intents: await count('payment_intents'),
    attempts: await count('payment_attempts'),
    charges: await count('charges'),
    paymentMethods: await count('payment_methods'),
    intentStates: intents.rows[0]?.digest,
    emulatorCharges: await emulatorCharges(),
  };
}

/** Runs `request`, expects a 4xx of `status` naming `param`, and checks that nothing changed. */
async function refused(
  request: () => Promise<Reply<ErrorBody>>,
  expected: { status: number; param?: string; code?: string; type?: string },
): Promise<ErrorBody['error']> {
  const before = await snapshot();
  const reply = await request();
  expect(reply.status, reply.text).toBe(expected.status);
  expect(reply.body.error, reply.text).toMatchObject({
    type: expected.type ?? 'invalid_request_error',
    ...(expected.param !== undefined ? { param: expected.param } : {}),
    ...(expected.code !== undefined ? { code: expected.code } : {}),
  });
  expect(await snapshot()).toEqual(before);
  return reply.body.error;
}

const confirmable = { currency: 'usd', payment_method: 'pm_card_visa', confirm: 'true' };

describe('amounts and currencies', () => {
  it.each([
    ['zero', { amount: 0 }, 'amount_too_small'],
    ['negative', { amount: -100 }, 'amount_too_small'],
    ['a float', { amount: 10.5 }, undefined],
    ['a word', { amount: 'abc' }, undefined],
    ['an exponent', { amount: '1e3' }, undefined],
    ['over the currency maximum', { amount: 100_000_000 }, 'amount_too_large'],
    ['missing', {}, 'parameter_missing'],
    ['JPY below its minimum', { amount: 49, currency: 'jpy' }, 'amount_too_small'],
    ['KWD not a multiple of 10 (3 decimals)', { amount: 1005, currency: 'kwd' }, 'amount_invalid'],
    ['BHD not a multiple of 10 (3 decimals)', { amount: 5001, currency: 'bhd' }, 'amount_invalid'],
  ])('refuses an amount that is %s, naming amount (form and JSON)', async (_name, fields, code) => {
    for (const as of ['form', 'json'] as const) {
      await refused(() => post(t.merchant, '/v1/payment_intents', { ...confirmable, ...fields }, { as }), {
        status: 400,
        param: 'amount',
        ...(code ? { code } : {}),
      });
    }
  });

  it.each([
    ['an unknown code', 'xyz'],
    ['not three letters', 'us'],
    ['digits', '123'],
  ])('refuses a currency that is %s, naming currency', async (_name, currency) => {
    await refused(() => post(t.merchant, '/v1/payment_intents', { ...confirmable, amount: 1000, currency }), {
      status: 400,
      param: 'currency',
    });
  });

  it('keeps the Idempotency-Key free after a refusal, so the corrected request goes through', async () => {
    const corrections: [Record<string, unknown>, Record<string, unknown>][] = [
      [{ amount: 10 }, { amount: 1000 }],
      [
        { amount: 1005, currency: 'kwd' },
        { amount: 1010, currency: 'kwd' },
      ],
      [{ amount: 100_000_000 }, { amount: 1000 }],
      [{ amount: 1000, currency: 'xyz' }, { amount: 1000 }],
      [{ amount: 1000, payment_method: 'pm_doesnotexist' }, { amount: 1000 }],
      [{ amount: 1000, payment_method_types: ['sofort'] }, { amount: 1000 }],
      [{ amount: 1000, customer: 'cus_doesnotexist' }, { amount: 1000 }],
    ];
    for (const [wrong, right] of corrections) {
      const headers = { 'idempotency-key': `bad-input-${Math.random()}` };
      const refusedReply = await post(
        t.merchant,
        '/v1/payment_intents',
        { ...confirmable, ...wrong },
        { headers },
      );
      expect(refusedReply.status, refusedReply.text).toBeGreaterThanOrEqual(400);
      const accepted = await post<Intent>(
        t.merchant,
        '/v1/payment_intents',
        { ...confirmable, ...right },
        { headers },
      );
      expect(accepted.status, `${JSON.stringify(wrong)}: ${accepted.text}`).toBe(200);
      expect(accepted.body.status).toBe('succeeded');
    }
  });

  it('takes the smallest and largest allowed amounts (the limits are where they say)', async () => {
    const jpy = await post<Intent>(t.merchant, '/v1/payment_intents', { amount: 50, currency: 'jpy' });
    expect(jpy.status, jpy.text).toBe(200);
    const kwd = await post<Intent>(t.merchant, '/v1/payment_intents', { amount: 1010, currency: 'kwd' });
    expect(kwd.status, kwd.text).toBe(200);
    const max = await post<Intent>(t.merchant, '/v1/payment_intents', {
      amount: 99_999_999,
      currency: 'usd',
    });
    expect(max.status, max.text).toBe(200);
  });

  it('refuses a bad amount on update, naming amount, and leaves the intent as it was', async () => {
    const created = await post<Intent>(t.merchant, '/v1/payment_intents', { amount: 1000, currency: 'usd' });
    for (const amount of [0, -1, '10.5', 'abc', '1e3', 100_000_000]) {
      await refused(() => post(t.merchant, `/v1/payment_intents/${created.body.id}`, { amount }), {
        status: 400,
        param: 'amount',
      });
    }
    await refused(() => post(t.merchant, `/v1/payment_intents/${created.body.id}`, { currency: 'xyz' }), {
      status: 400,
      param: 'currency',
    });
    // A new currency must still carry the amount: 1000 JPY is fine, 1000 KWD minor units is, 1005 is not.
    await refused(
      () => post(t.merchant, `/v1/payment_intents/${created.body.id}`, { currency: 'kwd', amount: 1005 }),
      { status: 400, param: 'amount' },
    );
  });
});

describe('lists and search', () => {
  it.each([
    ['a negative page', { page: '-5' }, 'page'],
    ['a page that is not ours', { page: 'abc' }, 'page'],
    ['a fractional page', { page: '1.5' }, 'page'],
    ['limit 0', { limit: 0 }, 'limit'],
    ['limit 101', { limit: 101 }, 'limit'],
    ['an empty query', { query: '' }, 'query'],
    ['OR', { query: "status:'succeeded' OR status:'canceled'" }, 'query'],
    ['an unsupported field', { query: "amount>'5'" }, 'query'],
  ])('search refuses %s, naming %s', async (_name, params, param) => {
    const reply = await t.merchant.get<ErrorBody>('/v1/payment_intents/search', {
      query: "metadata['order']:'x'",
      ...params,
    });
    answers.push(reply);
    expect(reply.status, reply.text).toBe(400);
    expect(reply.body.error).toMatchObject({ type: 'invalid_request_error', param });
  });

  it.each([
    ['limit 0', { limit: 0 }, 'limit'],
    ['limit 101', { limit: 101 }, 'limit'],
    ['an unknown cursor', { starting_after: 'pi_doesnotexist' }, 'starting_after'],
    ['both cursors', { starting_after: 'pi_a', ending_before: 'pi_b' }, 'ending_before'],
    ['a created bound that is not a time', { created: { gt: 'soon' } }, 'created[gt]'],
    ['an unknown filter', { status: 'succeeded' }, 'status'],
  ])('the list refuses %s, naming %s', async (_name, params, param) => {
    for (const path of ['/v1/payment_intents', '/v1/charges']) {
      const reply = await t.merchant.get<ErrorBody>(path, params);
      answers.push(reply);
      expect(reply.status, `${path}: ${reply.text}`).toBe(400);
      expect(reply.body.error).toMatchObject({ type: 'invalid_request_error', param });
    }
  });
});

describe('read-only and unknown parameters', () => {
  it.each([
    ['status', { status: 'succeeded' }],
    ['amount_received', { amount_received: 1000 }],
    ['amount_capturable', { amount_capturable: 1000 }],
    ['latest_charge', { latest_charge: 'ch_123' }],
    ['livemode', { livemode: 'true' }],
    ['metadata[a]', { metadata: { a: { b: 'c' } } }],
  ])('refuses %s on create and on update as an unknown or invalid parameter', async (param, fields) => {
    await refused(
      () => post(t.merchant, '/v1/payment_intents', { amount: 1000, currency: 'usd', ...fields }),
      {
        status: 400,
        param,
      },
    );
    const created = await post<Intent>(t.merchant, '/v1/payment_intents', { amount: 1000, currency: 'usd' });
    await refused(() => post(t.merchant, `/v1/payment_intents/${created.body.id}`, fields), {
      status: 400,
      param,
    });
  });

  it.each([
    ['currency', { amount: 1000, currency: 5 }],
    ['amount', { amount: true, currency: 'usd' }],
    ['amount', { amount: ['700'], currency: 'usd' }],
    ['metadata[a]', { amount: 1000, currency: 'usd', metadata: { a: { b: 'c' } } }],
  ])('answers a mistyped %s as parameter_invalid, not parameter_missing', async (param, body) => {
    await refused(() => post(t.merchant, '/v1/payment_intents', body, { as: 'json' }), {
      status: 400,
      param,
      code: 'parameter_invalid',
    });
  });
});

describe('capture and state', () => {
  async function authorized(amount = 5000) {
    const created = await post<Intent>(t.merchant, '/v1/payment_intents', {
      amount,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      capture_method: 'manual',
      confirm: 'true',
    });
    expect(created.body.status, created.text).toBe('requires_capture');
    return created.body;
  }

  it('refuses to capture more than is capturable, zero, or a word, naming amount_to_capture', async () => {
    const intent = await authorized();
    for (const amount_to_capture of [5001, 0, -5, 'abc', '10.5']) {
      await refused(
        () => post(t.merchant, `/v1/payment_intents/${intent.id}/capture`, { amount_to_capture }),
        { status: 400, param: 'amount_to_capture' },
      );
    }
    const after = await get<Intent>(t.merchant, `/v1/payment_intents/${intent.id}`);
    expect(after.body).toMatchObject({ status: 'requires_capture', amount_capturable: 5000 });
  });

  it('refuses a second capture as payment_intent_unexpected_state', async () => {
    const intent = await authorized();
    const first = await post<Intent>(t.merchant, `/v1/payment_intents/${intent.id}/capture`, {});
    expect(first.status, first.text).toBe(200);
    const error = await refused(() => post(t.merchant, `/v1/payment_intents/${intent.id}/capture`, {}), {
      status: 400,
      code: 'payment_intent_unexpected_state',
    });
    expect(error.payment_intent).toMatchObject({ id: intent.id, status: 'succeeded' });
  });

  it('refuses to confirm, capture or update a canceled payment intent', async () => {
    const created = await post<Intent>(t.merchant, '/v1/payment_intents', {
      amount: 1000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
    });
    const canceled = await post<Intent>(t.merchant, `/v1/payment_intents/${created.body.id}/cancel`, {});
    expect(canceled.body.status).toBe('canceled');
    for (const [path, body] of [
      ['confirm', {}],
      ['confirm', { payment_method: 'pm_card_mastercard' }],
      ['capture', {}],
      ['cancel', {}],
      ['', { amount: 2000 }],
    ] as const) {
      const error = await refused(
        () => post(t.merchant, `/v1/payment_intents/${created.body.id}${path ? `/${path}` : ''}`, body),
        { status: 400, code: 'payment_intent_unexpected_state' },
      );
      expect(error.payment_intent).toMatchObject({ id: created.body.id, status: 'canceled' });
    }
  });

  it('refuses to update an intent waiting for 3DS, so the shopper cannot pay an amount it no longer has', async () => {
    const created = await post<Intent & { next_action: { redirect_to_url: { url: string } } }>(
      t.merchant,
      '/v1/payment_intents',
      {
        amount: 1500,
        currency: 'usd',
        payment_method: 'pm_card_authenticationRequired',
        confirm: 'true',
        return_url: 'https://shop.example/r',
      },
    );
    expect(created.body.status, created.text).toBe('requires_action');
    for (const body of [{ amount: 3000 }, { payment_method: 'pm_card_visa' }, { currency: 'eur' }]) {
      const error = await refused(() => post(t.merchant, `/v1/payment_intents/${created.body.id}`, body), {
        status: 400,
        code: 'payment_intent_unexpected_state',
      });
      expect(error.payment_intent).toMatchObject({ id: created.body.id, status: 'requires_action' });
    }
    // What does not change the payment may change, and the intent keeps waiting for the shopper.
    const labeled = await post<Intent>(t.merchant, `/v1/payment_intents/${created.body.id}`, {
      metadata: { note: 'waiting' },
      description: 'still 3DS',
    });
    expect(labeled.status, labeled.text).toBe(200);
    expect(labeled.body).toMatchObject({
      status: 'requires_action',
      metadata: { note: 'waiting' },
      next_action: created.body.next_action,
    });
    // The shopper then authenticates the payment as it was, and it succeeds as it was.
    const url = created.body.next_action.redirect_to_url.url;
    const page = await fetch(`${url}${url.includes('?') ? '&' : '?'}action=approve`, { redirect: 'manual' });
    const back = await fetch(page.headers.get('location') as string, { redirect: 'manual' });
    expect(new URL(back.headers.get('location') as string).searchParams.get('redirect_status')).toBe(
      'succeeded',
    );
    const after = await get<Intent>(t.merchant, `/v1/payment_intents/${created.body.id}`);
    expect(after.body).toMatchObject({ status: 'succeeded', amount: 1500, amount_received: 1500 });
  });

  it('refuses an unknown cancellation_reason and capture_method, naming them', async () => {
    const intent = await authorized(1000);
    await refused(
      () => post(t.merchant, `/v1/payment_intents/${intent.id}/cancel`, { cancellation_reason: 'bored' }),
      { status: 400, param: 'cancellation_reason' },
    );
    await refused(
      () =>
        post(t.merchant, '/v1/payment_intents', { ...confirmable, amount: 1000, capture_method: 'later' }),
      { status: 400, param: 'capture_method' },
    );
  });
});

describe('cards', () => {
  it('refuses an expired card and a bad Luhn number at creation, naming the card field', async () => {
    await refused(
      () => post(t.merchant, '/v1/payment_methods', card('4242424242424242', { exp_year: 2020 })),
      { status: 400, param: 'card[exp_year]', code: 'invalid_expiry_year' },
    );
    await refused(() => post(t.merchant, '/v1/payment_methods', card('4242424242424241')), {
      status: 400,
      param: 'card[number]',
      code: 'incorrect_number',
    });
  });

  it('refuses a confirm needing 3DS without a return_url, naming return_url', async () => {
    const created = await post<Intent>(t.merchant, '/v1/payment_intents', {
      amount: 1000,
      currency: 'usd',
      payment_method: 'pm_card_authenticationRequired',
    });
    await refused(() => post(t.merchant, `/v1/payment_intents/${created.body.id}/confirm`, {}), {
      status: 400,
      param: 'return_url',
    });
    const after = await get<Intent>(t.merchant, `/v1/payment_intents/${created.body.id}`);
    expect(after.body.status).toBe('requires_confirmation');
  });

  it('refuses create-and-confirm needing 3DS without a return_url, creating nothing', async () => {
    await refused(
      () =>
        post(t.merchant, '/v1/payment_intents', {
          ...confirmable,
          amount: 1000,
          payment_method: 'pm_card_authenticationRequired',
        }),
      { status: 400, param: 'return_url', code: 'parameter_missing' },
    );
  });

  it('refuses a return_url that is not an absolute http(s) URL', async () => {
    await refused(
      () =>
        post(t.merchant, '/v1/payment_intents', { ...confirmable, amount: 1000, return_url: 'javascript:x' }),
      { status: 400, param: 'return_url' },
    );
  });
});

describe('live mode, other merchants and the other mode', () => {
  let live: Api;
  beforeAll(async () => {
    const key = await t.admin.post<{ secret: string }>('/admin/keys', {
      merchant: t.merchantId,
      kind: 'secret',
      livemode: true,
    });
    if (key.status !== 200) throw new Error(`live key: ${key.text}`);
    live = t.api.withKey(key.body.secret);
  });

  it('refuses sandbox cards and test payment method ids in live mode', async () => {
    await refused(() => post(live, '/v1/payment_methods', card('4242424242424242')), {
      status: 400,
      param: 'card[number]',
      code: 'live_mode_test_card',
    });
    const intent = await post<Intent>(live, '/v1/payment_intents', { amount: 1000, currency: 'usd' });
    expect(intent.status, intent.text).toBe(200);
    await refused(
      () => post(live, `/v1/payment_intents/${intent.body.id}/confirm`, { payment_method: 'pm_card_visa' }),
      { status: 404, param: 'payment_method', code: 'resource_missing' },
    );
    await refused(() => post(live, '/v1/payment_intents', { ...confirmable, amount: 1000 }), {
      status: 404,
      param: 'payment_method',
      code: 'resource_missing',
    });
  });

  it("answers 404 for another merchant's payment intent and payment method, and the other mode's", async () => {
    const other = await createMerchant(t, 'Bad input merchant');
    const theirPm = await post<{ id: string }>(other.api, '/v1/payment_methods', card('4242424242424242'));
    const theirIntent = await post<Intent>(other.api, '/v1/payment_intents', {
      amount: 1000,
      currency: 'usd',
      payment_method: theirPm.body.id,
    });
    expect(theirIntent.status, theirIntent.text).toBe(200);
    const liveIntent = await post<Intent>(live, '/v1/payment_intents', { amount: 1000, currency: 'usd' });
    const testIntent = await post<Intent>(t.merchant, '/v1/payment_intents', {
      amount: 1000,
      currency: 'usd',
    });
    const testPm = await post<{ id: string }>(t.merchant, '/v1/payment_methods', card('4242424242424242'));

    const foreign: [Api, string][] = [
      [t.merchant, theirIntent.body.id],
      [t.merchant, liveIntent.body.id],
      [live, testIntent.body.id],
    ];
    for (const [api, id] of foreign) {
      for (const [suffix, body] of [
        ['', { metadata: { x: '1' } }],
        ['/confirm', { payment_method: 'pm_card_visa' }],
        ['/capture', {}],
        ['/cancel', {}],
      ] as const) {
        await refused(() => post(api, `/v1/payment_intents/${id}${suffix}`, body), {
          status: 404,
          code: 'resource_missing',
        });
      }
      const read = await get(api, `/v1/payment_intents/${id}`);
      expect(read.status).toBe(404);
      expect(read.body.error).toMatchObject({ type: 'invalid_request_error', code: 'resource_missing' });
    }
    const readCharge = await get(t.merchant, '/v1/charges/ch_doesnotexist');
    expect(readCharge.status).toBe(404);

    for (const [api, intent, pm] of [
      [t.merchant, testIntent.body.id, theirPm.body.id],
      [live, liveIntent.body.id, testPm.body.id],
    ] as const) {
      await refused(() => post(api, `/v1/payment_intents/${intent}/confirm`, { payment_method: pm }), {
        status: 404,
        param: 'payment_method',
        code: 'resource_missing',
      });
      await refused(
        () => post(api, '/v1/payment_intents', { ...confirmable, amount: 1000, payment_method: pm }),
        {
          status: 404,
          param: 'payment_method',
          code: 'resource_missing',
        },
      );
    }
    // Creating without confirming checks the payment method too.
    await refused(
      () =>
        post(t.merchant, '/v1/payment_intents', {
          amount: 1000,
          currency: 'usd',
          payment_method: theirPm.body.id,
        }),
      { status: 404, param: 'payment_method', code: 'resource_missing' },
    );
    await refused(
      () =>
        post(t.merchant, `/v1/payment_intents/${testIntent.body.id}`, { payment_method: theirPm.body.id }),
      { status: 404, param: 'payment_method', code: 'resource_missing' },
    );
  });
});

describe('a card that expired after it was saved', () => {
  // Runs last: it moves the service clock forward, and the clock never moves back.
  it('refuses to confirm with 402 expired_card and changes nothing', async () => {
    const now = new Date();
    const pm = await post<{ id: string }>(
      t.merchant,
      '/v1/payment_methods',
      card('4242424242424242', { exp_month: now.getUTCMonth() + 1, exp_year: now.getUTCFullYear() }),
    );
    expect(pm.status, pm.text).toBe(200);
    const created = await post<Intent>(t.merchant, '/v1/payment_intents', {
      amount: 1000,
      currency: 'usd',
      payment_method: pm.body.id,
    });
    const moved = await t.api.post('/_test/clock', { advance_seconds: 32 * 86_400 });
    expect(moved.status, moved.text).toBe(200);
    const error = await refused(
      () => post(t.merchant, `/v1/payment_intents/${created.body.id}/confirm`, {}),
      {
        status: 402,
        type: 'card_error',
        code: 'expired_card',
        param: 'payment_method',
      },
    );
    expect(error.payment_intent).toMatchObject({ id: created.body.id, status: 'requires_confirmation' });
    // Create-and-confirm runs the same checks before the intent exists, so nothing is left behind.
    await refused(
      () =>
        post(t.merchant, '/v1/payment_intents', { ...confirmable, amount: 1000, payment_method: pm.body.id }),
      { status: 402, type: 'card_error', code: 'expired_card', param: 'payment_method' },
    );
  });
});

describe('every answer in this file', () => {
  it('carries no stack trace, and every error has Stripe’s shape', () => {
    expect(answers.length).toBeGreaterThan(50);
    const types = [
      'invalid_request_error',
      'authentication_error',
      'permission_error',
      'card_error',
      'idempotency_error',
      'rate_limit_error',
      'api_error',
    ];
    for (const answer of answers) {
      expect(answer.text).not.toMatch(/\bat [^\s]+ \(|\bat (file|node):|\.(ts|js):\d+:\d+/);
      if (answer.status < 400) continue;
      const { error } = answer.body as ErrorBody;
      expect(Object.keys(answer.body as object), answer.text).toEqual(['error']);
      expect(types, answer.text).toContain(error.type);
      expect(typeof error.message, answer.text).toBe('string');
      expect(error.message.length).toBeGreaterThan(0);
      expect(typeof error.code, answer.text).toBe('string');
      expect(answer.headers.get('request-id'), answer.text).toBeTruthy();
      expect(error).not.toHaveProperty('stack');
    }
  });
});
