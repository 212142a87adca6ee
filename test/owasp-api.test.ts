// OWASP API Security Top 10 (issue 9), against one running service: BOLA (API1) on every merchant
// resource listed in /openapi.json, for another merchant's id and for the other mode's id; mass
// assignment (API3) of read-only fields; BFLA (API5) for viewer and operator roles; SSRF (API7) through
// webhook endpoint URLs. Rate limits across two processes sharing Redis: rate-limits.pg.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api, Reply } from './support/http.js';
import { createMerchant, startTestService, type TestService } from './support/service.js';
import { waitFor } from './support/wait.js';

type ErrorBody = { error: { type: string; code?: string; param?: string; message: string } };
type Obj = { id: string; [key: string]: unknown };

let t: TestService;
let other: Awaited<ReturnType<typeof createMerchant>>;
let live: Api;
beforeAll(async () => {
  t = await startTestService();
  other = await createMerchant(t);
  const liveKey = await t.admin.post<{ secret: string }>('/admin/keys', {
    merchant: t.merchantId,
    livemode: true,
  });
  expect(liveKey.status, liveKey.text).toBe(200);
  live = t.api.withKey(liveKey.body.secret);
});
afterAll(async () => {
  await t.close();
});

/** A public address (no DNS here) and an event this file never causes: nothing is ever sent. */
const QUIET = ['customer.deleted'];

const ok = <T>(reply: Reply<T>): T => {
  expect(reply.status, reply.text).toBe(200);
  return reply.body;
};
const expect404 = (reply: Reply<unknown>, what: string) => {
  expect(reply.status, `${what}: ${reply.text}`).toBe(404);
  expect((reply.body as ErrorBody).error.type, what).toBe('invalid_request_error');
};
const expect400 = (reply: Reply<unknown>, param: string, what: string) => {
  expect(reply.status, `${what}: ${reply.text}`).toBe(400);
  expect((reply.body as ErrorBody).error.param, `${what}: ${reply.text}`).toBe(param);
};

/** One id of the default merchant's (test mode) for every resource, made the way a merchant would. */
const ids: Record<string, string> = {};

describe('OWASP API1: broken object level authorization', { timeout: 120_000 }, () => {
  it("answers 404 for another merchant's and the other mode's id on every GET-by-id route", async () => {
    const customer = ok(await t.merchant.post<Obj>('/v1/customers', { email: 'bola@example.test' }));
    ids.customers = customer.id;
    const intent = ok(
      await t.merchant.post<Obj & { latest_charge: string }>('/v1/payment_intents', {
        amount: 2000,
        currency: 'usd',
        payment_method: 'pm_card_createDispute',
        confirm: 'true',
      }),
    );
    ids.payment_intents = intent.id;
    ids.charges = intent.latest_charge;
    ids.payment_methods = ok(
      await t.merchant.post<Obj>('/v1/payment_methods', {
        type: 'card',
        card: { number: '4242424242424242', exp_month: 12, exp_year: 2040, cvc: '123' },
      }),
    ).id;
    const paid = ok(
      await t.merchant.post<Obj>('/v1/payment_intents', {
        amount: 2500,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: 'true',
      }),
    );
    ids.refunds = ok(await t.merchant.post<Obj>('/v1/refunds', { payment_intent: paid.id, amount: 100 })).id;
    ids.webhook_endpoints = ok(
      await t.merchant.post<Obj>('/v1/webhook_endpoints', {
        url: 'https://8.8.8.8/bola',
        enabled_events: QUIET,
      }),
    ).id;
    ids.wallets = ok(
      await t.merchant.post<Obj>('/v1/wallets', { customer: customer.id, currency: 'usd' }),
    ).id;
    ids.files = ok(
      await t.merchant.upload<Obj>(
        '/v1/files',
        { purpose: 'dispute_evidence' },
        { name: 'bola.pdf', bytes: Buffer.from('%PDF-1.7\n% evidence\n') },
      ),
    ).id;
    ids.disputes = await waitFor('the dispute', async () => {
      const list = await t.merchant.get<{ data: Obj[] }>('/v1/disputes');
      return list.body.data[0]?.id;
    });
    ids.events = ok(await t.merchant.get<{ data: Obj[] }>('/v1/events')).data[0]?.id as string;
    ids.balance_transactions = ok(await t.merchant.get<{ data: Obj[] }>('/v1/balance_transactions')).data[0]
      ?.id as string;
    const marking = ok(
      await t.admin.post<{ reviews: Obj[] }>(
        '/admin/rollback/mark-for-review',
        { since: '1h' },
        { as: 'json' },
      ),
    );
    ids.reviews = marking.reviews[0]?.id as string;

    // Every GET-by-id route of the merchant API must be covered here: a new resource fails this test.
    const spec = ok(await t.api.get<{ paths: Record<string, { get?: unknown }> }>('/openapi.json'));
    const routes = Object.entries(spec.paths)
      .filter(([path, item]) => /^\/v1\/[a-z_]+\/\{[a-z_]+\}$/.test(path) && item.get)
      .map(([path]) => path);
    const resources = routes.map((path) => path.split('/')[2] as string).sort();
    expect(resources).toEqual(Object.keys(ids).sort());

    for (const path of routes) {
      const resource = path.split('/')[2] as string;
      const id = ids[resource] as string;
      expect(id, resource).toBeTruthy();
      const url = path.replace(/\{[a-z_]+\}/, id);
      expect((await t.merchant.get(url)).status, `${url} as its owner`).toBe(200);
      expect404(await other.api.get(url), `${url} as another merchant`);
      expect404(await live.get(url), `${url} in live mode`);
    }

    // The other way round: a live-mode object is not found with the same merchant's test key.
    const liveCustomer = ok(await live.post<Obj>('/v1/customers', { email: 'live@example.test' }));
    expect404(await t.merchant.get(`/v1/customers/${liveCustomer.id}`), 'live customer in test mode');
    expect((await live.get(`/v1/customers/${liveCustomer.id}`)).status).toBe(200);
  });

  it("answers 404 on mutating routes with another merchant's id and changes nothing", async () => {
    const before = {
      customer: ok(await t.merchant.get<Obj>(`/v1/customers/${ids.customers}`)),
      intent: ok(await t.merchant.get<Obj>(`/v1/payment_intents/${ids.payment_intents}`)),
      endpoint: ok(await t.merchant.get<Obj>(`/v1/webhook_endpoints/${ids.webhook_endpoints}`)),
      wallet: ok(await t.merchant.get<Obj>(`/v1/wallets/${ids.wallets}`)),
      refunds: ok(await t.merchant.get<{ data: Obj[] }>('/v1/refunds')).data.length,
    };
    const attempts: [string, Record<string, unknown>][] = [
      [`/v1/customers/${ids.customers}`, { email: 'stolen@example.test' }],
      [`/v1/payment_intents/${ids.payment_intents}`, { description: 'stolen' }],
      [`/v1/payment_intents/${ids.payment_intents}/cancel`, {}],
      [`/v1/payment_intents/${ids.payment_intents}/capture`, {}],
      [`/v1/refunds/${ids.refunds}`, { metadata: { stolen: 'yes' } }],
      [`/v1/webhook_endpoints/${ids.webhook_endpoints}`, { url: 'https://8.8.4.4/' }],
      [`/v1/webhook_endpoints/${ids.webhook_endpoints}/rotate_secret`, {}],
      [`/v1/wallets/${ids.wallets}/close`, {}],
      [`/v1/payment_methods/${ids.payment_methods}/attach`, { customer: ids.customers }],
      [`/v1/disputes/${ids.disputes}/close`, {}],
      [`/v1/reviews/${ids.reviews}/approve`, {}],
    ];
    for (const [path, body] of attempts) {
      expect404(await other.api.post(path, body), `POST ${path} as another merchant`);
      expect404(await live.post(path, body), `POST ${path} in live mode`);
    }
    for (const [what, body] of [
      ['refund by payment_intent', { payment_intent: ids.payment_intents }],
      ['refund by charge', { charge: ids.charges }],
    ] as const) {
      const reply = await other.api.post<ErrorBody>('/v1/refunds', body);
      expect(reply.status, `${what}: ${reply.text}`).toBe(404);
    }
    expect(ok(await t.merchant.get(`/v1/customers/${ids.customers}`))).toEqual(before.customer);
    expect(ok(await t.merchant.get(`/v1/payment_intents/${ids.payment_intents}`))).toEqual(before.intent);
    expect(ok(await t.merchant.get(`/v1/webhook_endpoints/${ids.webhook_endpoints}`))).toEqual(
      before.endpoint,
    );
    expect(ok(await t.merchant.get(`/v1/wallets/${ids.wallets}`))).toEqual(before.wallet);
    expect(ok(await t.merchant.get<{ data: Obj[] }>('/v1/refunds')).data).toHaveLength(before.refunds);
    expect(ok(await t.merchant.get<Obj>(`/v1/reviews/${ids.reviews}`)).open).toBe(true);
  });
});

describe('OWASP API3: mass assignment of read-only fields', () => {
  it('refuses read-only fields with a 400 naming them and leaves the object unchanged', async () => {
    const intent = ok(await t.merchant.post<Obj>('/v1/payment_intents', { amount: 1200, currency: 'usd' }));
    const customer = ok(await t.merchant.post<Obj>('/v1/customers', { email: 'mass@example.test' }));
    const endpoint = ok(
      await t.merchant.post<Obj>('/v1/webhook_endpoints', {
        url: 'https://8.8.8.8/mass',
        enabled_events: QUIET,
      }),
    );
    const readOnly: Record<string, unknown> = {
      status: 'succeeded',
      amount_received: '1200',
      livemode: 'true',
      id: 'pi_mine',
      created: '1',
      object: 'charge',
      latest_charge: 'ch_fake',
    };
    const intentsBefore = ok(await t.merchant.get<{ data: Obj[] }>('/v1/payment_intents', { limit: 100 }))
      .data.length;
    for (const [param, value] of Object.entries(readOnly)) {
      expect400(
        await t.merchant.post('/v1/payment_intents', { amount: 1200, currency: 'usd', [param]: value }),
        param,
        `create with ${param}`,
      );
      expect400(
        await t.merchant.post(`/v1/payment_intents/${intent.id}`, { [param]: value }),
        param,
        `update with ${param}`,
      );
    }
    expect400(
      await t.merchant.post(`/v1/customers/${customer.id}`, { balance: '-5000' }),
      'balance',
      'balance',
    );
    expect400(
      await t.merchant.post('/v1/customers', { email: 'x@example.test', balance: '5000' }),
      'balance',
      'balance on create',
    );
    expect400(
      await t.merchant.post(`/v1/webhook_endpoints/${endpoint.id}`, { secret: 'whsec_attacker' }),
      'secret',
      'endpoint secret',
    );
    expect400(
      await t.merchant.post('/v1/webhook_endpoints', {
        url: 'https://8.8.8.8/x',
        enabled_events: QUIET,
        secret: 'whsec_attacker',
      }),
      'secret',
      'endpoint secret on create',
    );
    expect(ok(await t.merchant.get(`/v1/payment_intents/${intent.id}`))).toEqual(intent);
    expect(ok(await t.merchant.get(`/v1/customers/${customer.id}`))).toEqual(customer);
    const { secret: _secret, ...endpointShown } = endpoint;
    expect(ok(await t.merchant.get<Obj>(`/v1/webhook_endpoints/${endpoint.id}`))).toMatchObject(
      endpointShown,
    );
    expect(
      ok(await t.merchant.get<{ data: Obj[] }>('/v1/payment_intents', { limit: 100 })).data,
    ).toHaveLength(intentsBefore);
  });
});

describe('OWASP API5: broken function level authorization', { timeout: 60_000 }, () => {
  const PASSWORD = 'a long operator password';
  async function operatorApi(role: 'payment-viewer' | 'payment-operator'): Promise<Api> {
    const email = `owasp-${role}@example.test`;
    ok(await t.admin.post('/admin/operators', { email, password: PASSWORD, role }));
    const login = ok(await t.api.post<{ token: string }>('/admin/login', { email, password: PASSWORD }));
    return t.api.withKey(login.token);
  }

  it('a viewer can neither refund nor change configuration; an operator cannot change configuration', async () => {
    const intent = ok(
      await t.merchant.post<Obj>('/v1/payment_intents', {
        amount: 3000,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: 'true',
      }),
    );
    const rule = ok(await t.admin.get<{ data: Obj[] }>('/admin/fraud/rules')).data[0] as Obj;
    const state = async () => ({
      refunds: ok(await t.merchant.get<{ data: Obj[] }>('/v1/refunds', { limit: 100 })).data.length,
      flags: ok(await t.admin.get('/admin/flags')),
      routing: ok(await t.admin.get('/admin/routing/rules')),
      fraud: ok(await t.admin.get('/admin/fraud/rules')),
      providers: ok(await t.admin.get<{ data: Obj[] }>('/admin/providers')).data.map((p) => p.forced),
      keys: ok(await t.admin.get<{ data: Obj[] }>('/admin/keys')).data.length,
      operators: ok(await t.admin.get<{ data: Obj[] }>('/admin/operators')).data.length,
    });
    const viewer = await operatorApi('payment-viewer');
    const operator = await operatorApi('payment-operator');
    const before = await state();

    const configuration: [string, Record<string, unknown>][] = [
      ['/admin/routing/rules', { providers: ['stripe'], payment_method_type: 'card' }],
      [`/admin/fraud/rules/${rule.id}`, { enabled: 'false' }],
      ['/admin/fraud/blocklist', { type: 'ip', value: '203.0.113.9' }],
      ['/admin/keys', { merchant: t.merchantId, livemode: 'true' }],
      ['/admin/operators', { email: 'sneaky@example.test', password: PASSWORD, role: 'payment-admin' }],
    ];
    const viewerOnly: [string, Record<string, unknown>][] = [
      ['/admin/refunds', { payment_intent: intent.id }],
      ['/admin/flags/payments/kill', { reason: 'owasp' }],
      ['/admin/providers/stripe/circuit', { state: 'open' }],
    ];
    for (const [path, body] of [...configuration, ...viewerOnly]) {
      const reply = await viewer.post<ErrorBody>(path, body);
      expect(reply.status, `viewer POST ${path}: ${reply.text}`).toBe(403);
      expect(reply.body.error.type).toBe('permission_error');
    }
    for (const [path, body] of configuration) {
      const reply = await operator.post<ErrorBody>(path, body);
      expect(reply.status, `operator POST ${path}: ${reply.text}`).toBe(403);
      expect(reply.body.error.type).toBe('permission_error');
    }
    expect(await state()).toEqual(before);
  });
});

describe('OWASP API7: server side request forgery through webhook URLs', () => {
  it('refuses webhook endpoint URLs to private, loopback, link-local and metadata addresses', async () => {
    const before = ok(await t.merchant.get<{ data: Obj[] }>('/v1/webhook_endpoints', { limit: 100 })).data
      .length;
    const endpoint = ok(
      await t.merchant.post<Obj>('/v1/webhook_endpoints', {
        url: 'https://8.8.8.8/ssrf',
        enabled_events: QUIET,
      }),
    );
    for (const url of [
      'http://127.0.0.1/hook',
      'https://127.0.0.1:8443/hook',
      'http://10.0.0.5/hook',
      'http://172.16.0.1/hook',
      'http://192.168.1.1/hook',
      'http://169.254.169.254/latest/meta-data/',
      'http://[::1]/hook',
      'http://[fd00::1]/hook',
      'http://[::ffff:127.0.0.1]/hook',
      'http://localhost:3000/hook',
      'http://2130706433/hook',
      'http://0177.0.0.1/hook',
      'http://0x7f.0.0.1/hook',
      'http://0.0.0.0/hook',
    ]) {
      expect400(
        await t.merchant.post('/v1/webhook_endpoints', { url, enabled_events: QUIET }),
        'url',
        `create ${url}`,
      );
      expect400(
        await t.merchant.post(`/v1/webhook_endpoints/${endpoint.id}`, { url }),
        'url',
        `update ${url}`,
      );
    }
    const after = ok(await t.merchant.get<{ data: Obj[] }>('/v1/webhook_endpoints', { limit: 100 })).data;
    expect(after).toHaveLength(before + 1);
    expect(ok(await t.merchant.get<Obj>(`/v1/webhook_endpoints/${endpoint.id}`)).url).toBe(
      'https://8.8.8.8/ssrf',
    );
  });
});
