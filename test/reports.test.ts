// Daily report (issue 8, DESIGN section 9): days cut in the merchant's IANA zone across both DST changes of
// America/New_York, one row per currency (never added together), CSV that says what the JSON says, 400s
// naming the parameter, readable by a viewer, and payctl report daily over --url.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { moveClockTo } from './support/clock.js';
import type { Api } from './support/http.js';
import { runPayctl } from './support/processes.js';
import { startTestService, type TestService } from './support/service.js';

// The DST changes of next year in New York (the test clock only moves forward; the comments below give
// the 2027 dates): the second Sunday of
// March and the first Sunday of November, as UTC midnights of those dates.
const YEAR = new Date().getUTCFullYear() + 1;
function nthSunday(month: number, n: number): Date {
  const first = new Date(Date.UTC(YEAR, month, 1));
  return new Date(Date.UTC(YEAR, month, 1 + ((7 - first.getUTCDay()) % 7) + 7 * (n - 1)));
}
const spring = nthSunday(2, 2);
const fall = nthSunday(10, 1);
/** The date `offset` days from `base`, as YYYY-MM-DD. */
const day = (base: Date, offset: number) =>
  new Date(base.getTime() + offset * 86_400_000).toISOString().slice(0, 10);
/** That date at a UTC time of day. */
const instant = (base: Date, offset: number, time: string) => `${day(base, offset)}T${time}Z`;

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
  await moveClockTo(t, at(iso));
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

  // Spring forward, Sunday (the second of March next year): local midnight is 05:00Z (EST) that day and 04:00Z (EDT) the next.
  await payAt(instant(spring, 0, '04:59:30'), 1000); // Sat 03-13 23:59:30 EST
  await payAt(instant(spring, 0, '05:00:30'), 1000); // Sun 03-14 00:00:30 EST
  await shop.post('/v1/payment_intents', {
    amount: 700,
    currency: 'eur',
    payment_method: 'pm_card_visa',
    confirm: 'true',
  });
  await payAt(instant(spring, 1, '03:59:30'), 1001); // Sun 03-14 23:59:30 EDT (UTC-5 would say 22:59 of 03-14 too)
  const refunded = await payAt(instant(spring, 1, '04:00:30'), 500); // Mon 03-15 00:00:30 EDT
  const refund = await shop.post<{ status: string }>('/v1/refunds', {
    payment_intent: refunded,
    amount: 200,
  });
  expect(refund.body.status, refund.text).toBe('succeeded');

  // Fall back, Sunday (the first of November next year): local midnight is 04:00Z (EDT) that day and 05:00Z (EST) the next.
  await payAt(instant(fall, 0, '03:59:30'), 100); // Sat 11-06 23:59:30 EDT
  await payAt(instant(fall, 0, '04:00:30'), 200); // Sun 11-07 00:00:30 EDT
  await payAt(instant(fall, 1, '04:59:30'), 301); // Sun 11-07 23:59:30 EST (UTC-4 would say 00:59 of 11-08)
  await payAt(instant(fall, 1, '05:00:30'), 400); // Mon 11-08 00:00:30 EST
}, 120_000);

afterAll(async () => {
  await t?.close();
});

describe('daily report', { timeout: 60_000 }, () => {
  it('cuts days at local midnight across the spring-forward change, one row per currency', async () => {
    const reply = await daily({ from: day(spring, -1), to: day(spring, 1) });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.timezone).toBe('America/New_York');
    expect(reply.body.data.every((r) => r.gateway === 'stripe' && r.livemode === false)).toBe(true);
    expect(pick(reply.body.data)).toEqual([
      [day(spring, -1), 'usd', 1, 1000, 1000, 0, 0],
      [day(spring, 0), 'eur', 1, 700, 700, 0, 0],
      // 2001 / 2 = 1000.5 rounds half up to 1001; the eur payment of that day is not in the sum.
      [day(spring, 0), 'usd', 2, 2001, 1001, 0, 0],
      [day(spring, 1), 'usd', 1, 500, 500, 1, 200],
    ]);
  });

  it('cuts days at local midnight across the fall-back change (a 25-hour day)', async () => {
    const reply = await daily({ from: day(fall, -1), to: day(fall, 1) });
    expect(reply.status, reply.text).toBe(200);
    expect(pick(reply.body.data)).toEqual([
      [day(fall, -1), 'usd', 1, 100, 100, 0, 0],
      // 501 / 2 = 250.5 -> 251
      [day(fall, 0), 'usd', 2, 501, 251, 0, 0],
      [day(fall, 1), 'usd', 1, 400, 400, 0, 0],
    ]);
    const oneDay = await daily({ from: day(fall, 0), to: day(fall, 0) });
    expect(pick(oneDay.body.data)).toEqual([[day(fall, 0), 'usd', 2, 501, 251, 0, 0]]);
  });

  it('serves the same rows as CSV with a header row', async () => {
    const json = await daily({ from: day(spring, -1), to: day(spring, 1) });
    const csv = await daily({ from: day(spring, -1), to: day(spring, 1), format: 'csv' });
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
    const reply = await daily({ from: day(fall, -1), to: day(fall, 1) }, viewer);
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.data).toHaveLength(3);
    expect((await daily({ from: day(fall, -1), to: day(fall, 1) }, t.api)).status).toBe(401);
  });

  it('payctl report daily --url prints the same CSV and JSON', async () => {
    const remote = ['--url', t.url, '--token', t.adminToken];
    const args = [
      'report',
      'daily',
      '--merchant',
      merchantId,
      '--from',
      day(spring, -1),
      '--to',
      day(spring, 1),
    ];
    const env = { LOG_LEVEL: 'warn' };
    const csv = await runPayctl([...remote, ...args, '--format', 'csv'], env);
    expect(csv.code, csv.output).toBe(0);
    const served = await daily({ from: day(spring, -1), to: day(spring, 1), format: 'csv' });
    expect(csv.stdout).toBe(served.text);
    const json = await runPayctl([...remote, '--json', ...args], env);
    expect(json.code, json.output).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(
      (await daily({ from: day(spring, -1), to: day(spring, 1) })).body,
    );
    const table = await runPayctl([...remote, ...args], env);
    expect(table.stdout).toMatch(
      new RegExp(`${day(spring, 0)}\\s+false\\s+stripe\\s+usd\\s+2\\s+2001\\s+1001`),
    );
    const bad = await runPayctl([...remote, ...args.slice(0, -1), '2027-13-01'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.output).toMatch(/--to/);
  });
});
