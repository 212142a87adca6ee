// Invariant 6: no full card number or CVC outside the vault. One service takes payments with every
// sandbox card, both as card payment methods created from `card[number]` and `card[cvc]` (plain, with
// spaces, with dashes, with the publishable key, as JSON) and as pm_card_* ids: successes, declines,
// 3-D Secure approved and failed, manual capture and cancel, refunds and a disputed charge; plus bad
// card input (a Luhn-invalid number, an expired card, a wrong CVC, card numbers under unknown parameter
// names' values), whose errors must not quote the number. Then every log line, every answer the clients
// and the shopper received, /metrics and every row of every table but vault_cards and vault_cvcs are
// scanned for the numbers (with or without spaces and dashes) and for the CVC as a value, and for the
// credentials used all along: the merchant's API secret key, the bootstrap admin's password and the
// admin's operator API token (tables hold hashes of keys and tokens, never the secrets).
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureServiceSecret } from '../src/db/service-secrets.js';
import { canonicalHash, canonicalJson, HASH_SECRET_NAME } from '../src/http/idempotency.js';
import type { Reply, RequestOptions } from './support/http.js';
import { ADMIN_PASSWORD, startTestService, type TestService } from './support/service.js';
import { completeThreeDSecure } from './support/three-d-secure.js';
import { waitFor } from './support/wait.js';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t.close();
});

const NUMBERS = [
  '4242424242424242',
  '4000000000000002',
  '4000000000009995',
  '4000002500003155',
  '4000000000000119',
  '4000000000000259',
  '5555555555554444',
] as const;
/** A typo'd card number (fails Luhn): still the shopper's card data. */
const LUHN_INVALID = '4242424242424241';
/** Sent with every card; no amount, fee or id in this file is this value on its own. */
const CVC = '837';
const TEST_IDS = [
  'pm_card_visa',
  'pm_card_mastercard',
  'pm_card_chargeDeclined',
  'pm_card_chargeDeclinedInsufficientFunds',
  'pm_card_chargeDeclinedProcessingError',
  'pm_card_authenticationRequired',
  'pm_card_createDispute',
];
const RETURN_URL = 'https://shop.example/return';

/** A full number with or without spaces or dashes between its digits. */
const panPattern = (digits: string) => new RegExp(digits.split('').join('[ -]?'));
const PAN_PATTERNS = [...NUMBERS, LUHN_INVALID].map((digits) => ({ digits, pattern: panPattern(digits) }));
/** The CVC as a value: a JSON string of its own, or right after a cvc-like name. */
const CVC_PATTERNS = [
  new RegExp(`"${CVC}"`),
  new RegExp(`(cvc|cvv|cvn|security_code)\\W{0,4}${CVC}(?!\\d)`, 'i'),
];

/** What the scan found in one text: the numbers and CVC patterns it contains. */
function findCardData(text: string): string[] {
  return [
    ...PAN_PATTERNS.filter(({ pattern }) => pattern.test(text)).map(({ digits }) => `card ${digits}`),
    ...CVC_PATTERNS.filter((pattern) => pattern.test(text)).map((pattern) => `CVC ${pattern}`),
  ];
}

/** The credentials this file's clients send; none may be stored or echoed anywhere. */
const secrets = () => [
  { name: 'API secret key', value: t.secretKey },
  { name: 'admin password', value: ADMIN_PASSWORD },
  { name: 'operator API token', value: t.adminToken },
];
function findSecrets(text: string): string[] {
  return secrets()
    .filter(({ value }) => text.includes(value))
    .map(({ name }) => name);
}

/** Every answer received in this file (API, 3-D Secure pages, return hop), for the scan. */
const answers: string[] = [];
const record = (text: string) => {
  answers.push(text);
};
async function post<T = Record<string, unknown>>(
  path: string,
  body: Record<string, unknown>,
  options: RequestOptions & { publishable?: boolean } = {},
): Promise<Reply<T>> {
  const api = options.publishable ? t.api.withKey(t.publishableKey) : t.merchant;
  const reply = await api.post<T>(path, body, options);
  record(`${reply.status} ${[...reply.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n${reply.text}`);
  return reply;
}
async function get<T = Record<string, unknown>>(path: string, query?: Record<string, unknown>) {
  const reply = await t.merchant.get<T>(path, query);
  record(`${reply.status} ${reply.text}`);
  return reply;
}

type Intent = {
  id: string;
  status: string;
  latest_charge: string | null;
  next_action: { redirect_to_url: { url: string } } | null;
};
type ErrorBody = { error: { type: string; code: string; param?: string; message: string } };

const year = () => t.service.clock.now().getUTCFullYear();
let amountStep = 0;
/** Distinct amounts none of which contains the CVC's digits. */
function nextAmount(): number {
  for (;;) {
    amountStep += 1;
    const amount = 1000 + amountStep * 110;
    if (!String(amount).includes(CVC)) return amount;
  }
}

const idempotencyKeys: string[] = [];
function withKey(name: string): RequestOptions {
  const key = `scan-${name}-${idempotencyKeys.length}`;
  idempotencyKeys.push(key);
  return { headers: { 'idempotency-key': key } };
}

async function createCard(number: string, options: RequestOptions & { publishable?: boolean } = {}) {
  const reply = await post<{ id: string; card: { last4: string } }>(
    '/v1/payment_methods',
    { type: 'card', card: { number, exp_month: 12, exp_year: year() + 2, cvc: CVC } },
    options,
  );
  expect(reply.status, reply.text).toBe(200);
  expect(reply.body.card.last4).toBe(number.replace(/\D/g, '').slice(-4));
  return reply.body.id;
}

/** Pays with `paymentMethod` and carries the payment to its end: 3DS approved or failed, dispute waited for. */
async function pay(
  paymentMethod: string,
  number: string,
  options: { manual?: boolean; fail3ds?: boolean } = {},
) {
  const created = await post<Intent & ErrorBody>(
    '/v1/payment_intents',
    {
      amount: nextAmount(),
      currency: 'usd',
      payment_method: paymentMethod,
      confirm: 'true',
      return_url: RETURN_URL,
      ...(options.manual ? { capture_method: 'manual' } : {}),
      metadata: { order: `scan-${amountStep}` },
    },
    withKey('pay'),
  );
  if (['4000000000000002', '4000000000009995', '4000000000000119'].includes(number)) {
    expect(created.status, created.text).toBe(402);
    expect(created.body.error.type).toBe('card_error');
    return null;
  }
  expect(created.status, created.text).toBe(200);
  let intent: Intent = created.body;
  if (number === '4000002500003155') {
    expect(intent.status).toBe('requires_action');
    const shopper = await completeThreeDSecure(
      intent.next_action?.redirect_to_url.url as string,
      options.fail3ds ? 'fail' : 'approve',
    );
    for (const body of shopper.bodies) record(body);
    record(shopper.merchantUrl?.toString() ?? '');
    expect(shopper.merchantUrl?.searchParams.get('redirect_status')).toBe(
      options.fail3ds ? 'failed' : 'succeeded',
    );
    intent = (await get<Intent>(`/v1/payment_intents/${intent.id}`)).body;
    if (options.fail3ds) {
      expect(intent.status).toBe('requires_payment_method');
      return null;
    }
  }
  expect(intent.status).toBe(options.manual ? 'requires_capture' : 'succeeded');
  if (number === '4000000000000259') {
    await waitFor('the dispute to be recorded', async () => {
      const charge = await get<{ disputed: boolean }>(`/v1/charges/${intent.latest_charge}`);
      return charge.body.disputed;
    });
  }
  return intent;
}

const scanned = {
  logLines: 0,
  answers: 0,
  metricsBytes: 0,
  tables: 0,
  rows: 0,
  events: 0,
  idempotencyKeys: 0,
};

describe('card data stays in the vault', () => {
  it('takes payments with every sandbox card, stored with a CVC and as pm_card_* ids', async () => {
    const stored: { id: string; number: string }[] = [];
    for (const number of NUMBERS) stored.push({ id: await createCard(number, withKey('card')), number });
    // The same cards as people type them, with the publishable key (Stripe.js), and as JSON.
    stored.push({ id: await createCard('4242 4242 4242 4242', { publishable: true }), number: NUMBERS[0] });
    stored.push({ id: await createCard('5555-5555-5555-4444', { as: 'json' }), number: NUMBERS[6] });
    expect(
      await t.service.database.db.selectFrom('vault_cards').select('payment_method_id').execute(),
    ).toHaveLength(stored.length);

    const paid: { intent: Intent; number: string }[] = [];
    for (const { id, number } of stored) {
      const intent = await pay(id, number);
      if (intent) paid.push({ intent, number });
    }
    for (const [index, id] of TEST_IDS.entries()) {
      const number = [NUMBERS[0], NUMBERS[6], NUMBERS[1], NUMBERS[2], NUMBERS[4], NUMBERS[3], NUMBERS[5]][
        index
      ];
      const intent = await pay(id, number as string);
      if (intent) paid.push({ intent, number: number as string });
    }
    expect(await pay(stored[3]?.id as string, NUMBERS[3], { fail3ds: true })).toBeNull();

    // Manual capture (part of it) and cancel, with stored cards whose CVC the first payment used up.
    const authorized = (await pay(stored[0]?.id as string, NUMBERS[0], { manual: true })) as Intent;
    const captured = await post<Intent>(`/v1/payment_intents/${authorized.id}/capture`, {
      amount_to_capture: 900,
    });
    expect(captured.body.status, captured.text).toBe('succeeded');
    const held = (await pay(stored[6]?.id as string, NUMBERS[6], { manual: true })) as Intent;
    expect((await post<Intent>(`/v1/payment_intents/${held.id}/cancel`, {})).body.status).toBe('canceled');

    // Refunds: partial then the rest on one payment, whole on the others (not the disputed one).
    const refundable = paid.filter((p) => p.number !== '4000000000000259').map((p) => p.intent);
    for (const [i, intent] of refundable.slice(0, 6).entries()) {
      if (i === 0) {
        const part = await post('/v1/refunds', { payment_intent: intent.id, amount: 500 }, withKey('refund'));
        expect(part.status, part.text).toBe(200);
      }
      const rest = await post('/v1/refunds', { payment_intent: intent.id, reason: 'requested_by_customer' });
      expect(rest.status, rest.text).toBe(200);
    }

    // A customer keeps one card; read everything back the ways a merchant would.
    const customer = await post<{ id: string }>('/v1/customers', { email: 'scan@example.test' });
    const attached = await post(`/v1/payment_methods/${stored[0]?.id}/attach`, {
      customer: customer.body.id,
    });
    expect(attached.status, attached.text).toBe(200);
    for (const { id } of stored) expect((await get(`/v1/payment_methods/${id}`)).status).toBe(200);
    for (const path of [
      '/v1/payment_intents',
      '/v1/charges',
      '/v1/refunds',
      '/v1/events',
      '/v1/balance_transactions',
    ]) {
      expect((await get(path, { limit: 100 })).status).toBe(200);
    }
    expect((await get('/v1/payment_methods', { customer: customer.body.id })).status).toBe(200);
    expect((await get('/v1/balance')).status).toBe(200);
    expect(paid.length).toBeGreaterThanOrEqual(8);
  });

  it('refuses bad card input without quoting the number in the error', async () => {
    const base = { exp_month: 12, exp_year: year() + 2, cvc: CVC };
    const refusals: [string, Record<string, unknown>, string, string][] = [
      [
        'a Luhn-invalid number',
        { card: { ...base, number: LUHN_INVALID } },
        'incorrect_number',
        'card[number]',
      ],
      [
        'an expired card',
        { card: { ...base, number: NUMBERS[0], exp_year: year() - 1 } },
        'invalid_expiry_year',
        'card[exp_year]',
      ],
      [
        'an expired month this year',
        { card: { ...base, number: NUMBERS[1], exp_month: 1, exp_year: year() } },
        'invalid_expiry_month',
        'card[exp_month]',
      ],
      [
        'a CVC of the wrong length',
        { card: { ...base, number: NUMBERS[6], cvc: '8370' } },
        'invalid_cvc',
        'card[cvc]',
      ],
      [
        'a card number as the expiry month',
        { card: { ...base, number: NUMBERS[2], exp_month: NUMBERS[2] } },
        'invalid_expiry_month',
        'card[exp_month]',
      ],
      [
        'a card number under an unknown card field',
        { card: { ...base, number: NUMBERS[0], pan: NUMBERS[3] } },
        'parameter_unknown',
        'card[pan]',
      ],
      [
        'a card number under an unknown top-level name',
        { card_number: NUMBERS[4] },
        'parameter_unknown',
        'card_number',
      ],
    ];
    for (const [what, body, code, param] of refusals) {
      const reply = await post<ErrorBody>('/v1/payment_methods', { type: 'card', ...body }, withKey('bad'));
      expect(reply.status, `${what}: ${reply.text}`).toBe(400);
      expect(reply.body.error, what).toMatchObject({ type: 'invalid_request_error', code, param });
      expect(findCardData(reply.text), what).toEqual([]);
    }
    const elsewhere = await post<ErrorBody>('/v1/payment_intents', {
      amount: 1000,
      currency: 'usd',
      payment_method_data: { type: 'card', card: { number: NUMBERS[5], cvc: CVC } },
    });
    expect(elsewhere.status).toBe(400);
    // payment_method_data takes type paypal only: a raw card there is refused, naming the parameter.
    expect(elsewhere.body.error.code).toMatch(/^parameter_(unknown|invalid)$/);
    expect(elsewhere.body.error.param).toMatch(/^payment_method_data\[(type|card)\]$/);
    expect(findCardData(elsewhere.text)).toEqual([]);
  });

  it('keys the idempotency request hash, so a stored hash cannot be searched for a card number', async () => {
    const db = t.service.database.db;
    const key = 'scan-hash-probe';
    const params = {
      type: 'card',
      card: { number: NUMBERS[0], exp_month: 12, exp_year: year() + 2, cvc: CVC },
    };
    const reply = await post('/v1/payment_methods', params, { headers: { 'idempotency-key': key } });
    expect(reply.status, reply.text).toBe(200);
    const row = await db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('key', '=', key)
      .executeTakeFirstOrThrow();
    const secret = await ensureServiceSecret(db, t.service.clock, HASH_SECRET_NAME);
    // The stored hash is the HMAC of exactly these parameters (so the comparison below means something)...
    expect(row.request_hash).toBe(canonicalHash(params, secret));
    // ...and not a plain digest anyone could recompute for every candidate number.
    expect(row.request_hash).not.toBe(createHash('sha256').update(canonicalJson(params)).digest('hex'));
    expect(findCardData(JSON.stringify(row))).toEqual([]);
    const saved = await db
      .selectFrom('idempotency_keys')
      .select(['key', 'response_status', 'response_body'])
      .where('key', 'in', idempotencyKeys)
      .execute();
    // Card creations, payments (402 declines included) and refunds saved their answers (a card's shows
    // its last 4 only); the refused card input did not.
    expect(saved.filter((s) => s.key.startsWith('scan-card-') && s.response_status === 200)).toHaveLength(
      NUMBERS.length,
    );
    expect(saved.filter((s) => s.response_status === 402).length).toBeGreaterThan(0);
    expect(saved.every((s) => s.response_status !== 400)).toBe(true);
    for (const s of saved) expect(findCardData(JSON.stringify(s.response_body)), s.key).toEqual([]);
  });

  it('finds no card number, CVC, API key, password or operator token in logs, answers, metrics or tables', async () => {
    // The admin logs in again (the password in a request body) and uses its token once more.
    expect((await (await t.adminSession()).get('/admin/me')).status).toBe(200);
    expect((await t.admin.get('/admin/operators')).status).toBe(200);
    // The scanner finds what it is looking for: a control before the real scan.
    expect(findCardData('x 4242 4242 4242 4242 y')).toEqual(['card 4242424242424242']);
    expect(findCardData('{"card":{"cvc":"837"}}').length).toBe(2);
    expect(findCardData('{"amount":8370,"id":"pi_a837b"}')).toEqual([]);
    expect(findSecrets(`Bearer ${t.secretKey} ${t.adminToken} ${ADMIN_PASSWORD}`)).toHaveLength(3);
    expect(findSecrets(t.secretKey.slice(0, 12))).toEqual([]);

    const found: string[] = [];
    const scan = (where: string, text: string) => {
      for (const hit of [...findCardData(text), ...findSecrets(text)])
        found.push(`${hit} in ${where}: ${text.slice(0, 300)}`);
    };

    for (const [i, line] of t.logs.entries()) scan(`log line ${i}`, JSON.stringify(line));
    scanned.logLines = t.logs.length;
    for (const [i, text] of answers.entries()) scan(`answer ${i}`, text);
    scanned.answers = answers.length;
    const metrics = await t.api.get('/metrics');
    expect(metrics.status).toBe(200);
    scan('/metrics', metrics.text);
    scanned.metricsBytes = metrics.text.length;

    const db = t.service.database.db;
    const tables = await sql<{ name: string }>`
      select table_name as name from information_schema.tables
      where table_schema = current_schema() and table_type = 'BASE TABLE'
      order by table_name
    `.execute(db);
    const perTable: Record<string, number> = {};
    for (const { name } of tables.rows) {
      if (name === 'vault_cards' || name === 'vault_cvcs') continue;
      const rows = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(db);
      perTable[name] = rows.rows.length;
      for (const row of rows.rows) scan(`table ${name}`, JSON.stringify(row, binaryAsText));
      scanned.tables += 1;
      scanned.rows += rows.rows.length;
    }
    scanned.events = perTable.events ?? 0;
    scanned.idempotencyKeys = perTable.idempotency_keys ?? 0;
    console.log('card data scan:', JSON.stringify(scanned), '\nrows per table:', JSON.stringify(perTable));

    expect(found).toEqual([]);
    expect(scanned.logLines).toBeGreaterThan(0);
    expect(scanned.answers).toBeGreaterThan(0);
    expect(scanned.metricsBytes).toBeGreaterThan(0);
    expect(scanned.tables).toBeGreaterThan(10);
    expect(scanned.rows).toBeGreaterThan(0);
    expect(scanned.events).toBeGreaterThan(0);
    expect(scanned.idempotencyKeys).toBeGreaterThan(0);
    for (const table of [
      'payment_methods',
      'payment_intents',
      'payment_attempts',
      'charges',
      'refunds',
      'disputes',
    ]) {
      expect(perTable[table], table).toBeGreaterThan(0);
    }
  });

  // Card numbers sent as parameter names or ids: payments-regressions.test.ts.
});

/** Binary columns (bytea) as text, so a plain number stored in one would still be found. */
function binaryAsText(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('latin1');
  if (
    value !== null &&
    typeof value === 'object' &&
    (value as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((value as { data?: unknown }).data)
  ) {
    return Buffer.from((value as { data: number[] }).data).toString('latin1');
  }
  return value;
}
