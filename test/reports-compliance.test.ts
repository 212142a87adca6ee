// Runbook 003's monthly compliance report (months cut in the merchant's zone, or UTC for all merchants;
// successful, failed, refunds and disputes per currency) and security events summary (the audit log per
// action and outcome), in JSON and CSV, over HTTP and payctl --url.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api } from './support/http.js';
import { runPayctl } from './support/processes.js';
import { startTestService, type TestService } from './support/service.js';
import { waitFor } from './support/wait.js';

/** Next year: the test clock only moves forward. */
const YEAR = new Date().getUTCFullYear() + 1;

interface MonthlyRow {
  livemode: boolean;
  currency: string;
  transactions: number;
  successful: number;
  failed: number;
  volume: number;
  average: number;
  refund_count: number;
  refund_amount: number;
  dispute_count: number;
  dispute_amount: number;
  disputes_lost: number;
}
interface SecurityRow {
  action: string;
  outcome: string;
  count: number;
  actors: number;
  origins: number;
}
type Report<R> = { data: R[]; timezone?: string; error?: { param?: string } };

let t: TestService;
let shop: Api;
let merchantId: string;

const pay = (amount: number, currency: string, paymentMethod = 'pm_card_visa') =>
  shop.post<{ id: string; status: string }>('/v1/payment_intents', {
    amount,
    currency,
    payment_method: paymentMethod,
    confirm: 'true',
  });

const moveTo = async (iso: string) => {
  const moved = await t.api.post('/_test/clock', { to: Math.floor(Date.parse(iso) / 1000) });
  expect(moved.status, moved.text).toBe(200);
};

const monthly = (query: Record<string, string>) =>
  t.admin.get<Report<MonthlyRow>>('/admin/reports/monthly', query);

beforeAll(async () => {
  t = await startTestService();
  const created = await t.admin.post<{ id: string; secret_key: string }>('/admin/merchants', {
    name: 'Berlin shop',
    timezone: 'Europe/Berlin',
  });
  expect(created.status, created.text).toBe(200);
  merchantId = created.body.id;
  shop = t.api.withKey(created.body.secret_key);

  await moveTo(`${YEAR}-01-31T22:59:30Z`); // 23:59:30 CET, still January in Berlin
  expect((await pay(1000, 'usd')).body.status).toBe('succeeded');
  await moveTo(`${YEAR}-01-31T23:00:30Z`); // 00:00:30 CET on 1 February; UTC is still in January
  const refunded = await pay(2000, 'usd');
  expect(refunded.body.status).toBe('succeeded');
  expect((await pay(500, 'eur')).body.status).toBe('succeeded');
  expect((await pay(900, 'usd', 'pm_card_chargeDeclined')).status).toBe(402);
  const refund = await shop.post<{ status: string }>('/v1/refunds', {
    payment_intent: refunded.body.id,
    amount: 300,
  });
  expect(refund.body.status, refund.text).toBe('succeeded');
  const disputed = await pay(800, 'usd', 'pm_card_createDispute');
  expect(disputed.body.status, disputed.text).toBe('succeeded');
  await waitFor('the dispute', async () => {
    const list = await shop.get<{ data: unknown[] }>('/v1/disputes', { payment_intent: disputed.body.id });
    return list.body.data.length > 0;
  });
}, 120_000);

afterAll(async () => {
  await t?.close();
});

describe('monthly compliance report', { timeout: 60_000 }, () => {
  it("cuts the month in the merchant's zone and keeps currencies apart", async () => {
    const january = await monthly({ month: `${YEAR}-01`, merchant: merchantId });
    expect(january.status, january.text).toBe(200);
    expect(january.body.timezone).toBe('Europe/Berlin');
    expect(january.body.data).toEqual([
      expect.objectContaining({ currency: 'usd', transactions: 1, successful: 1, volume: 1000, failed: 0 }),
    ]);
    const february = await monthly({ month: `${YEAR}-02`, merchant: merchantId });
    expect(february.body.data).toEqual([
      expect.objectContaining({ currency: 'eur', transactions: 1, successful: 1, volume: 500, average: 500 }),
      {
        livemode: false,
        currency: 'usd',
        transactions: 3,
        successful: 2,
        failed: 1,
        volume: 2800,
        average: 1400,
        refund_count: 1,
        refund_amount: 300,
        dispute_count: 1,
        dispute_amount: 800,
        disputes_lost: 0,
      },
    ]);
  });

  it('covers all merchants in UTC months without a merchant', async () => {
    const january = await monthly({ month: `${YEAR}-01` });
    expect(january.body.timezone).toBe('UTC');
    const usd = january.body.data.find((row) => row.currency === 'usd');
    // Everything paid from 22:59:30Z on 31 January on is still January in UTC, though February in Berlin.
    expect(usd).toMatchObject({ transactions: 4, successful: 3, failed: 1, volume: 1000 + 2000 + 800 });
    expect((await monthly({ month: `${YEAR}-02` })).body.data).toEqual([]);
  });

  it('serves CSV with a header row and refuses bad input naming the parameter', async () => {
    const csv = await monthly({ month: `${YEAR}-02`, merchant: merchantId, format: 'csv' });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.text).toBe(
      'livemode,currency,transactions,successful,failed,volume,average,refund_count,refund_amount,dispute_count,dispute_amount,disputes_lost\r\n' +
        'false,eur,1,1,0,500,500,0,0,0,0,0\r\n' +
        'false,usd,3,2,1,2800,1400,1,300,1,800,0\r\n',
    );
    for (const [query, param] of [
      [{ month: '2027-13' }, 'month'],
      [{ month: `${YEAR}-02`, merchant: 'acct_unknown' }, 'merchant'],
      [{ month: `${YEAR}-02`, format: 'xml' }, 'format'],
    ] as const) {
      const reply = await monthly(query);
      expect(reply.status, reply.text).toBe(400);
      expect(reply.body.error?.param).toBe(param);
    }
  });
});

describe('security events summary', { timeout: 60_000 }, () => {
  it('counts audit entries by action and outcome, in JSON, CSV and payctl --url', async () => {
    await moveTo(`${YEAR}-02-02T10:00:00Z`);
    const email = 'security-viewer@example.test';
    const password = 'reads the security summary';
    expect((await t.admin.post('/admin/operators', { email, password, role: 'payment-viewer' })).status).toBe(
      200,
    );
    expect((await t.api.post('/admin/login', { email, password: 'not the password' })).status).toBe(401);
    expect((await t.api.post('/admin/login', { email, password: 'still not it' })).status).toBe(401);
    const login = await t.api.post<{ token: string }>('/admin/login', { email, password });
    const viewer = t.api.withKey(login.body.token);
    expect((await viewer.post('/admin/merchants', { name: 'Not allowed' })).status).toBe(403);

    const reply = await viewer.get<Report<SecurityRow>>('/admin/reports/security', {
      from: `${YEAR}-02-02`,
      to: `${YEAR}-02-02`,
    });
    expect(reply.status, reply.text).toBe(200);
    const row = (action: string, outcome: string) =>
      reply.body.data.find((r) => r.action === action && r.outcome === outcome);
    expect(row('operator.login', 'failure')).toMatchObject({ count: 2, actors: 1, origins: 1 });
    expect(row('operator.login', 'success')).toMatchObject({ count: 1 });
    expect(row('POST /admin/merchants', 'denied')).toMatchObject({ count: 1 });
    expect(row('operator.create', 'success')).toMatchObject({ count: 1 });
    // The payments and logins of January and at start-up are outside the range.
    expect(reply.body.data.reduce((sum, r) => sum + r.count, 0)).toBe(5);

    const csv = await runPayctl(
      [
        '--url',
        t.url,
        '--token',
        t.adminToken,
        'report',
        'security',
        '--from',
        `${YEAR}-02-02`,
        '--to',
        `${YEAR}-02-02`,
        '--format',
        'csv',
      ],
      { LOG_LEVEL: 'warn' },
    );
    expect(csv.code, csv.output).toBe(0);
    const served = await t.admin.get('/admin/reports/security', {
      from: `${YEAR}-02-02`,
      to: `${YEAR}-02-02`,
      format: 'csv',
    });
    expect(csv.stdout).toBe(served.text);
    expect(csv.stdout.split('\r\n')[0]).toBe('action,outcome,count,actors,origins');

    const monthlyCli = await runPayctl(
      [
        '--url',
        t.url,
        '--token',
        t.adminToken,
        '--json',
        'report',
        'monthly',
        '--month',
        `${YEAR}-02`,
        '--merchant',
        merchantId,
      ],
      { LOG_LEVEL: 'warn' },
    );
    expect(monthlyCli.code, monthlyCli.output).toBe(0);
    expect(JSON.parse(monthlyCli.stdout)).toEqual(
      (await monthly({ month: `${YEAR}-02`, merchant: merchantId })).body,
    );

    const tooLong = await t.admin.get<Report<SecurityRow>>('/admin/reports/security', {
      from: '2027-01-01',
      to: '2027-06-01',
    });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error?.param).toBe('to');
  });
});
