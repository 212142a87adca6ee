// Daily report (issue 8, DESIGN section 9): days cut in the merchant's IANA zone across both DST changes of
// America/New_York, one row per currency (never added together), CSV that says what the JSON says, 400s
// naming the parameter, readable by a viewer, and payctl report daily over --url.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api } from './support/http.js';
import { runPayctl } from './support/processes.js';
import { startTestService, type TestService } from './support/service.js';

interface Row {
  date: string;
  livemode: boolean;
  gateway: string;
  currency: string;
  count: number;
  volume: number;
  average: number;
  refund_count: number;
  refund_amount: number;
}
interface Daily {
  merchant: string;
  timezone: string;
  data: Row[];
}

let t: TestService;
let shop: Api;
let merchantId: string;

const at = (iso: string) => Math.floor(Date.parse(iso) / 1000);

async function payAt(iso: string, amount: number, currency = 'usd') {
  const moved = await t.api.post('/_test/clock', { to: at(iso) });
  expect(moved.status, moved.text).toBe(200);
  const paid = await shop.post<{ id: string; status: string }>('/v1/payment_intents', {
    amount,
    currency,
    payment_method: 'pm_card_visa',
    confirm: 'true',
  });
  expect(paid.body.status, paid.text).toBe('succeeded');
  return paid.body.id;
}

const daily = (query: Record<string, string>, api: Api = t.admin) =>
  api.get<Daily & { error?: { param?: string; message: string } }>('/admin/reports/daily', {
    merchant: merchantId,
    ...query,
  });

const pick = (rows: Row[]) =>
  rows.map((r) => [r.date, r.currency, r.count, r.volume, r.average, r.refund_count, r.refund_amount]);

beforeAll(async () => {
  t = await startTestService();
  const created = await t.admin.post<{ id: string; secret_key: string; timezone: string }>(
    '/admin/merchants',
    { name: 'New York shop', timezone: 'America/New_York' },
  );
  expect(created.status, created.text).toBe(200);
  expect(created.body.timezone).toBe('America/New_York');
  merchantId = created.body.id;
  shop = t.api.withKey(created.body.secret_key);

  // Spring forward, Sunday 2027-03-14: local midnight is 05:00Z (EST) that day and 04:00Z (EDT) the next.
  await payAt('2027-03-14T04:59:30Z', 1000); // Sat 03-13 23:59:30 EST
  await payAt('2027-03-14T05:00:30Z', 1000); // Sun 03-14 00:00:30 EST
  await shop.post('/v1/payment_intents', {
    amount: 700,
    currency: 'eur',
    payment_method: 'pm_card_visa',
    confirm: 'true',
  });
  await payAt('2027-03-15T03:59:30Z', 1001); // Sun 03-14 23:59:30 EDT (UTC-5 would say 22:59 of 03-14 too)
  const refunded = await payAt('2027-03-15T04:00:30Z', 500); // Mon 03-15 00:00:30 EDT
  const refund = await shop.post<{ status: string }>('/v1/refunds', {
    payment_intent: refunded,
    amount: 200,
  });
  expect(refund.body.status, refund.text).toBe('succeeded');

  // Fall back, Sunday 2027-11-07: local midnight is 04:00Z (EDT) that day and 05:00Z (EST) the next.
  await payAt('2027-11-07T03:59:30Z', 100); // Sat 11-06 23:59:30 EDT
  await payAt('2027-11-07T04:00:30Z', 200); // Sun 11-07 00:00:30 EDT
  await payAt('2027-11-08T04:59:30Z', 301); // Sun 11-07 23:59:30 EST (UTC-4 would say 00:59 of 11-08)
  await payAt('2027-11-08T05:00:30Z', 400); // Mon 11-08 00:00:30 EST
}, 120_000);

afterAll(async () => {
  await t?.close();
});

describe('daily report', { timeout: 60_000 }, () => {
  it('cuts days at local midnight across the spring-forward change, one row per currency', async () => {
    const reply = await daily({ from: '2027-03-13', to: '2027-03-15' });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.timezone).toBe('America/New_York');
    expect(reply.body.data.every((r) => r.gateway === 'stripe' && r.livemode === false)).toBe(true);
    expect(pick(reply.body.data)).toEqual([
      ['2027-03-13', 'usd', 1, 1000, 1000, 0, 0],
      ['2027-03-14', 'eur', 1, 700, 700, 0, 0],
      // 2001 / 2 = 1000.5 rounds half up to 1001; the eur payment of that day is not in the sum.
      ['2027-03-14', 'usd', 2, 2001, 1001, 0, 0],
      ['2027-03-15', 'usd', 1, 500, 500, 1, 200],
    ]);
  });

  it('cuts days at local midnight across the fall-back change (a 25-hour day)', async () => {
    const reply = await daily({ from: '2027-11-06', to: '2027-11-08' });
    expect(reply.status, reply.text).toBe(200);
    expect(pick(reply.body.data)).toEqual([
      ['2027-11-06', 'usd', 1, 100, 100, 0, 0],
      // 501 / 2 = 250.5 -> 251
      ['2027-11-07', 'usd', 2, 501, 251, 0, 0],
      ['2027-11-08', 'usd', 1, 400, 400, 0, 0],
    ]);
    const oneDay = await daily({ from: '2027-11-07', to: '2027-11-07' });
    expect(pick(oneDay.body.data)).toEqual([['2027-11-07', 'usd', 2, 501, 251, 0, 0]]);
  });

  it('serves the same rows as CSV with a header row', async () => {
    const json = await daily({ from: '2027-03-13', to: '2027-03-15' });
    const csv = await daily({ from: '2027-03-13', to: '2027-03-15', format: 'csv' });
    expect(csv.status, csv.text).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const [header, ...lines] = csv.text.trimEnd().split('\r\n');
    expect(header).toBe('date,livemode,gateway,currency,count,volume,average,refund_count,refund_amount');
    const columns = header?.split(',') ?? [];
    const parsed = lines.map((line) => Object.fromEntries(line.split(',').map((v, i) => [columns[i], v])));
    expect(parsed).toEqual(
      json.body.data.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, String(v)]))),
    );
  });

  it('refuses bad input with a 400 naming the parameter', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ from: '2027-02-30', to: '2027-03-01' }, 'from'],
      [{ from: '2027-03-01', to: '03/02/2027' }, 'to'],
      [{ from: '2027-03-02', to: '2027-03-01' }, 'from'],
      [{ from: '2027-01-01', to: '2027-04-03' }, 'to'],
      [{ from: '2027-03-01', to: '2027-03-01', merchant: 'acct_nosuchmerchant' }, 'merchant'],
      [{ from: '2027-03-01', to: '2027-03-01', format: 'pdf' }, 'format'],
      [{ to: '2027-03-01' }, 'from'],
    ];
    for (const [query, param] of cases) {
      const reply = await daily(query);
      expect(reply.status, `${JSON.stringify(query)}: ${reply.text}`).toBe(400);
      expect(reply.body.error?.param).toBe(param);
    }
    // 92 days, both ends included, is the longest range served.
    expect((await daily({ from: '2027-01-01', to: '2027-04-02' })).status).toBe(200);
  });

  it('refuses a merchant time zone that is not an IANA name', async () => {
    const reply = await t.admin.post<{ error: { param: string } }>('/admin/merchants', {
      name: 'Nowhere',
      timezone: 'Mars/Olympus',
    });
    expect(reply.status).toBe(400);
    expect(reply.body.error.param).toBe('timezone');
  });

  it('is readable by a viewer and refused without a token', async () => {
    const email = 'report-viewer@example.test';
    const password = 'a viewer reads reports';
    const made = await t.admin.post('/admin/operators', { email, password, role: 'payment-viewer' });
    expect(made.status, made.text).toBe(200);
    const login = await t.api.post<{ token: string }>('/admin/login', { email, password });
    const viewer = t.api.withKey(login.body.token);
    const reply = await daily({ from: '2027-11-06', to: '2027-11-08' }, viewer);
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.data).toHaveLength(3);
    expect((await daily({ from: '2027-11-06', to: '2027-11-08' }, t.api)).status).toBe(401);
  });

  it('payctl report daily --url prints the same CSV and JSON', async () => {
    const remote = ['--url', t.url, '--token', t.adminToken];
    const args = ['report', 'daily', '--merchant', merchantId, '--from', '2027-03-13', '--to', '2027-03-15'];
    const env = { LOG_LEVEL: 'warn' };
    const csv = await runPayctl([...remote, ...args, '--format', 'csv'], env);
    expect(csv.code, csv.output).toBe(0);
    const served = await daily({ from: '2027-03-13', to: '2027-03-15', format: 'csv' });
    expect(csv.stdout).toBe(served.text);
    const json = await runPayctl([...remote, '--json', ...args], env);
    expect(json.code, json.output).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual((await daily({ from: '2027-03-13', to: '2027-03-15' })).body);
    const table = await runPayctl([...remote, ...args], env);
    expect(table.stdout).toMatch(/2027-03-14\s+false\s+stripe\s+usd\s+2\s+2001\s+1001/);
    const bad = await runPayctl([...remote, ...args.slice(0, -1), '2027-13-01'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.output).toMatch(/--to/);
  });
});
