// Runbook 002's connectivity test (POST /api/payments/test): a small charge and its refund at each card
// provider, ok for both emulators; a refused provider reports failed without a 500; audited; no merchant
// sees the test charge.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Api } from './support/http.js';
import { startTestService, type TestService } from './support/service.js';

type Check = { provider: string; charge: string; refund: string; latency_ms: number; error?: string };
type Report = { ok: boolean; amount: number; currency: string; providers: Check[] };

let t: TestService;
let stripe: Api;
beforeAll(async () => {
  t = await startTestService();
  stripe = new Api(t.service.providers.emulators.stripe?.url as string);
});
afterAll(async () => {
  await t.close();
});
afterEach(async () => {
  await stripe.delete('/_emulator/faults');
});

const byProvider = (report: Report) => Object.fromEntries(report.providers.map((c) => [c.provider, c]));

describe('POST /api/payments/test', { timeout: 60_000 }, () => {
  it('charges and refunds at each card provider and reports ok', async () => {
    expect(t.service.providers.supportsCards('paypal')).toBe(true);
    const reply = await t.admin.post<Report>(
      '/api/payments/test',
      { amount: 100, currency: 'usd' },
      { as: 'json' },
    );
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body).toMatchObject({ ok: true, amount: 100, currency: 'usd' });
    const checks = byProvider(reply.body);
    for (const provider of ['stripe', 'paypal']) {
      expect(checks[provider]).toMatchObject({ provider, charge: 'ok', refund: 'ok' });
      expect(checks[provider]?.latency_ms).toBeGreaterThanOrEqual(0);
      expect(checks[provider]?.error).toBeUndefined();
    }
    // The emulator holds a succeeded, fully refunded 100-cent charge.
    const state = await stripe.get<{ charges?: Record<string, { amount: number; amount_refunded: number }> }>(
      '/_emulator/state',
    );
    const charges = Object.values(state.body.charges ?? {});
    expect(charges.some((c) => c.amount === 100 && c.amount_refunded === 100)).toBe(true);
    // No merchant sees it.
    expect((await t.merchant.get<{ data: unknown[] }>('/v1/charges')).body.data).toEqual([]);
  });

  it('reports a refused provider as failed, without a 500, and audits the run', async () => {
    expect((await stripe.post('/_emulator/faults', { mode: 'refuse' }, { as: 'json' })).status).toBe(200);
    const reply = await t.admin.post<Report>('/api/payments/test', {}, { as: 'json' });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.ok).toBe(false);
    const checks = byProvider(reply.body);
    expect(checks.stripe).toMatchObject({ charge: 'failed', refund: 'skipped' });
    expect(checks.stripe?.error).toBeTruthy();
    expect(checks.paypal).toMatchObject({ charge: 'ok', refund: 'ok' });

    const audit = await t.admin.get<{ data: { action: string; outcome: string; new_value: Report }[] }>(
      '/admin/audit',
      { action: 'payment.connectivity_test' },
    );
    expect(audit.body.data.map((e) => e.outcome)).toEqual(['failure', 'success']);
    expect(audit.body.data[0]?.new_value.providers).toHaveLength(2);
  });

  it('needs operator auth and refuses a bad amount naming it', async () => {
    expect((await t.merchant.post('/api/payments/test', {})).status).toBe(401);
    const bad = await t.admin.post('/api/payments/test', { amount: 5 }, { as: 'json' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { param: 'amount' } });
    // The providers' webhooks about the test charges and refunds match no payment and break nothing.
    expect(t.logs.filter((line) => Number(line.level) >= 50)).toEqual([]);
  });
});
