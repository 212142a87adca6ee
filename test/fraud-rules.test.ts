// Fraud rules (issue 9, runbook 003's threat rules) over HTTP against the Stripe emulator: each rule
// triggers its action and a disabled one does not; a block is a 402 that charges and posts nothing (the
// emulator's own charge count and our balance checked); a review holds the payment at authorization
// until it is approved; a request for 3-D Secure is honoured by the emulator (requires_action);
// blocklists; every admin change audited with old and new value; bad input a 400 naming the parameter.
// Windows are walked with the test clock. Rules are global, so each test gives itself its own merchant.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api } from './support/http.js';
import { createMerchant, startTestService, type TestService } from './support/service.js';
import { completeThreeDSecure } from './support/three-d-secure.js';

type Intent = {
  id: string;
  status: string;
  latest_charge: string | null;
  review: string | null;
  next_action: { redirect_to_url: { url: string } } | null;
};
type CardError = {
  error: {
    type: string;
    code: string;
    decline_code?: string;
    payment_intent: { id: string; status: string };
  };
};
type ErrorBody = { error: { type: string; param?: string; code?: string } };
type Rule = { id: string; enabled: boolean; action: string; thresholds: Record<string, unknown> };
type AuditEntry = { action: string; resource: { id: string }; old_value: unknown; new_value: unknown };

const US_IP = '8.8.8.8'; // geoip-lite: Kansas, United States
const UK_IP = '81.2.69.160'; // geoip-lite: St Albans, United Kingdom (about 7,000 km away)
const FR_IP = '5.39.0.1';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t.close();
});

const setRule = (id: string, body: Record<string, unknown>) =>
  t.admin.post<Rule>(`/admin/fraud/rules/${id}`, body, { as: 'json' });

async function configure(id: string, body: Record<string, unknown>) {
  const reply = await setRule(id, body);
  expect(reply.status, reply.text).toBe(200);
  return reply.body;
}

async function advanceClock(seconds: number) {
  expect((await t.api.post('/_test/clock', { advance_seconds: seconds })).status).toBe(200);
}

async function emulatorCharges(): Promise<number> {
  const url = t.service.providers.emulators.stripe?.url;
  if (!url) throw new Error('the embedded Stripe emulator is not running');
  const state = (await (await fetch(`${url}/_emulator/state?types=none`)).json()) as {
    counts: { charges: number };
  };
  return state.counts.charges;
}

async function emulatorIntent(attemptProviderId: string) {
  const url = t.service.providers.emulators.stripe?.url;
  const state = (await (await fetch(`${url}/_emulator/state?types=payment_intents`)).json()) as {
    payment_intents?: {
      id: string;
      capture_method: string;
      status: string;
      payment_method_options: unknown;
    }[];
  };
  return state.payment_intents?.find((pi) => pi.id === attemptProviderId);
}

async function attemptsOf(id: string) {
  const reply = await t.admin.get<{
    data: { provider_payment_id: string; hold_for_review: boolean; request_three_d_secure: boolean }[];
    fraud_outcome: { action: string; rules: { id: string; action: string }[]; review?: string } | null;
  }>(`/admin/payment_intents/${id}/attempts`);
  expect(reply.status, reply.text).toBe(200);
  return reply.body;
}

function pay(api: Api, extra: Record<string, unknown> = {}) {
  return api.post<Intent & CardError>(
    '/v1/payment_intents',
    { amount: 2000, currency: 'usd', payment_method: 'pm_card_visa', confirm: 'true', ...extra },
    { as: 'json' },
  );
}

async function detections(rule: string, action: string): Promise<number> {
  const text = (await t.api.get('/metrics')).text;
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`payment_fraud_detections_total{rule="${rule}",action="${action}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('fraud rules', { timeout: 120_000 }, () => {
  it('seeds runbook 003 defaults and audits each change with old and new value', async () => {
    const list = await t.admin.get<{ data: Rule[] }>('/admin/fraud/rules');
    expect(list.status).toBe(200);
    const byId = Object.fromEntries(list.body.data.map((rule) => [rule.id, rule]));
    expect(byId.card_velocity).toMatchObject({
      enabled: true,
      action: 'review',
      thresholds: { max_payments: 100, window_seconds: 3600 },
    });
    expect(byId.geo_anomaly).toMatchObject({
      enabled: true,
      action: 'request_three_d_secure',
      thresholds: { max_distance_km: 1000, window_seconds: 3600 },
    });
    expect(Object.keys(byId).sort()).toEqual([
      'amount_limit',
      'blocklist',
      'card_testing',
      'card_velocity',
      'geo_anomaly',
    ]);

    const changed = await setRule('card_testing', { thresholds: { max_declines: 7 }, action: 'review' });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.body).toMatchObject({
      action: 'review',
      thresholds: { max_declines: 7, window_seconds: 600 },
    });
    const audit = await t.admin.get<{ data: AuditEntry[] }>('/admin/audit', { action: 'fraud_rule.update' });
    expect(audit.body.data[0]).toMatchObject({
      resource: { id: 'card_testing' },
      old_value: { action: 'block', thresholds: { max_declines: 10, window_seconds: 600 } },
      new_value: { action: 'review', thresholds: { max_declines: 7, window_seconds: 600 } },
    });
    await configure('card_testing', { thresholds: { max_declines: 10 }, action: 'block' });
  });

  it('refuses bad rule input with a 400 naming the parameter, and changes nothing', async () => {
    const before = (await t.admin.get<Rule>('/admin/fraud/rules/card_velocity')).body;
    const cases: [Record<string, unknown>, string][] = [
      [{ thresholds: { max_payments: 0 } }, 'thresholds[max_payments]'],
      [{ thresholds: { max_payments: 'many' } }, 'thresholds[max_payments]'],
      [{ thresholds: { per_day: 3 } }, 'thresholds[per_day]'],
      [{ action: 'explode' }, 'action'],
      [{ enabled: 'maybe' }, 'enabled'],
    ];
    for (const [body, param] of cases) {
      const reply = await t.admin.post<ErrorBody>('/admin/fraud/rules/card_velocity', body, { as: 'json' });
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.error.param).toBe(param);
    }
    const limits = await t.admin.post<ErrorBody>(
      '/admin/fraud/rules/amount_limit',
      { thresholds: { default_limits: { USD: 10 } } },
      { as: 'json' },
    );
    expect(limits.status).toBe(400);
    expect(limits.body.error.param).toMatch(/^thresholds\[default_limits\]/);
    expect((await t.admin.post('/admin/fraud/rules/no_such_rule', { enabled: false })).status).toBe(404);
    expect((await t.admin.get<Rule>('/admin/fraud/rules/card_velocity')).body).toEqual(before);

    // Permission-checked like every /admin route: a viewer reads but cannot change.
    const email = 'fraud-viewer@example.test';
    const password = 'a long enough viewer password';
    expect((await t.admin.post('/admin/operators', { email, password, role: 'payment-viewer' })).status).toBe(
      200,
    );
    const login = await t.api.post<{ token: string }>('/admin/login', { email, password });
    const viewer = t.api.withKey(login.body.token);
    expect((await viewer.get('/admin/fraud/rules')).status).toBe(200);
    const denied = await viewer.post<ErrorBody>('/admin/fraud/rules/card_velocity', { enabled: false });
    expect(denied.status).toBe(403);
    expect((await t.admin.get<Rule>('/admin/fraud/rules/card_velocity')).body).toEqual(before);
  });

  it('velocity: the payment over the limit is held for review, captured when approved', async () => {
    const shop = await createMerchant(t, 'Velocity shop');
    await configure('card_velocity', { thresholds: { max_payments: 3 } });
    for (let i = 0; i < 3; i++) expect((await pay(shop.api)).body.status).toBe('succeeded');
    const counted = await detections('card_velocity', 'review');

    const held = await pay(shop.api);
    expect(held.status, held.text).toBe(200);
    expect(held.body.status).toBe('requires_capture');
    expect(held.body.review).toMatch(/^prv_/);
    expect(await detections('card_velocity', 'review')).toBe(counted + 1);
    const review = await shop.api.get<{
      open: boolean;
      opened_reason: string;
      reason: string;
      charge: string;
    }>(`/v1/reviews/${held.body.review}`);
    expect(review.body).toMatchObject({ open: true, opened_reason: 'rule', reason: 'rule' });
    const charge = await shop.api.get<{
      captured: boolean;
      review: string;
      outcome: Record<string, unknown>;
    }>(`/v1/charges/${held.body.latest_charge}`);
    expect(charge.body).toMatchObject({
      captured: false,
      review: held.body.review,
      outcome: {
        type: 'manual_review',
        reason: 'rule',
        risk_level: 'elevated',
        rule: { id: 'card_velocity' },
      },
    });
    const attempts = await attemptsOf(held.body.id);
    expect(attempts.fraud_outcome).toMatchObject({ action: 'review', review: held.body.review });
    expect(attempts.data[0]?.hold_for_review).toBe(true);
    // The provider was asked to authorize only: nothing captured there until the review is approved.
    const atStripe = await emulatorIntent(attempts.data[0]?.provider_payment_id ?? '');
    expect(atStripe).toMatchObject({ capture_method: 'manual', status: 'requires_capture' });

    const approved = await shop.api.post(`/v1/reviews/${held.body.review}/approve`);
    expect(approved.status, approved.text).toBe(200);
    const after = await shop.api.get<Intent>(`/v1/payment_intents/${held.body.id}`);
    expect(after.body.status).toBe('succeeded');
    expect(await emulatorIntent(attempts.data[0]?.provider_payment_id ?? '')).toMatchObject({
      status: 'succeeded',
    });

    await configure('card_velocity', { enabled: false });
    expect((await pay(shop.api)).body).toMatchObject({ status: 'succeeded', review: null });
    await configure('card_velocity', { enabled: true });
    const again = await pay(shop.api);
    expect(again.body.status).toBe('requires_capture');
    // Cancelling a held payment releases the authorization and closes its review, as on Stripe.
    expect((await shop.api.post(`/v1/payment_intents/${again.body.id}/cancel`)).body.status).toBe('canceled');
    const closed = await shop.api.get<{ open: boolean; closed_reason: string }>(
      `/v1/reviews/${again.body.review}`,
    );
    expect(closed.body).toMatchObject({ open: false, closed_reason: 'canceled' });
    // An hour later the card's earlier payments are out of the window.
    await advanceClock(3601);
    expect((await pay(shop.api)).body.status).toBe('succeeded');
    await configure('card_velocity', { thresholds: { max_payments: 100 } });
  });

  it('geography: a card 1,000 km from its last payment within the hour must pass 3-D Secure', async () => {
    const shop = await createMerchant(t, 'Geo shop');
    const first = await pay(shop.api, { shopper_ip: US_IP });
    expect(first.body.status).toBe('succeeded');

    const far = await pay(shop.api, { shopper_ip: UK_IP, return_url: 'https://shop.example/back' });
    expect(far.status, far.text).toBe(200);
    expect(far.body.status).toBe('requires_action');
    const attempts = await attemptsOf(far.body.id);
    expect(attempts.fraud_outcome).toMatchObject({
      action: 'request_three_d_secure',
      rules: [{ id: 'geo_anomaly', action: 'request_three_d_secure' }],
    });
    expect(attempts.data[0]?.request_three_d_secure).toBe(true);
    const atStripe = await emulatorIntent(attempts.data[0]?.provider_payment_id ?? '');
    expect(atStripe?.payment_method_options).toMatchObject({ card: { request_three_d_secure: 'any' } });
    const shopper = await completeThreeDSecure(far.body.next_action?.redirect_to_url.url ?? '', 'approve');
    expect(shopper.merchantUrl?.searchParams.get('redirect_status')).toBe('succeeded');
    expect((await shop.api.get<Intent>(`/v1/payment_intents/${far.body.id}`)).body.status).toBe('succeeded');
    const charge = await shop.api.get<{ outcome: { type: string; rule?: { action: string } } }>(
      `/v1/charges/${(await shop.api.get<Intent>(`/v1/payment_intents/${far.body.id}`)).body.latest_charge}`,
    );
    expect(charge.body.outcome).toMatchObject({
      type: 'authorized',
      rule: { action: 'request_credentials' },
    });

    // Nearby (same place) is no anomaly; neither is the far place once the rule is off.
    expect((await pay(shop.api, { shopper_ip: UK_IP })).body.status).toBe('succeeded');
    await configure('geo_anomaly', { enabled: false });
    expect((await pay(shop.api, { shopper_ip: US_IP })).body.status).toBe('succeeded');
    await configure('geo_anomaly', { enabled: true });
    await advanceClock(3601);
    expect((await pay(shop.api, { shopper_ip: UK_IP })).body.status).toBe('succeeded');
  });

  it('amount limit: a payment above the merchant limit is blocked with 402, nothing charged or posted', async () => {
    const shop = await createMerchant(t, 'Limited shop');
    await configure('amount_limit', { thresholds: { merchant_limits: { [shop.id]: { usd: 5000 } } } });
    const charges = await emulatorCharges();
    const balance = (await shop.api.get('/v1/balance')).body;

    const blocked = await pay(shop.api, { amount: 5001 });
    expect(blocked.status, blocked.text).toBe(402);
    expect(blocked.body.error).toMatchObject({
      type: 'card_error',
      code: 'card_declined',
      decline_code: 'fraudulent',
      payment_intent: { status: 'requires_payment_method' },
    });
    expect(await emulatorCharges()).toBe(charges);
    expect((await shop.api.get('/v1/balance')).body).toEqual(balance);
    const attempts = await attemptsOf(blocked.body.error.payment_intent.id);
    expect(attempts.data).toHaveLength(0);
    expect(attempts.fraud_outcome).toMatchObject({ action: 'block', rules: [{ id: 'amount_limit' }] });

    expect((await pay(shop.api, { amount: 5000 })).body.status).toBe('succeeded');
    await configure('amount_limit', { enabled: false });
    expect((await pay(shop.api, { amount: 5001 })).body.status).toBe('succeeded');
    await configure('amount_limit', { enabled: true, thresholds: { merchant_limits: {} } });
  });

  it('card testing: after many declines from one IP or customer, the next payment is blocked', async () => {
    const shop = await createMerchant(t, 'Tested shop');
    await configure('card_testing', { thresholds: { max_declines: 3 } });
    const customer = (await shop.api.post<{ id: string }>('/v1/customers', { email: 'c@example.test' })).body
      .id;
    for (let i = 0; i < 3; i++) {
      const declined = await pay(shop.api, { customer, payment_method: 'pm_card_chargeDeclined' });
      expect(declined.status).toBe(402);
      expect(declined.body.error.decline_code).toBe('generic_decline');
    }
    const charges = await emulatorCharges();
    const blocked = await pay(shop.api, { customer });
    expect(blocked.status, blocked.text).toBe(402);
    expect(blocked.body.error.decline_code).toBe('fraudulent');
    expect(await emulatorCharges()).toBe(charges);

    for (let i = 0; i < 3; i++) {
      expect(
        (await pay(shop.api, { shopper_ip: FR_IP, payment_method: 'pm_card_chargeDeclined' })).status,
      ).toBe(402);
    }
    expect((await pay(shop.api, { shopper_ip: FR_IP })).body.error.decline_code).toBe('fraudulent');
    await configure('card_testing', { enabled: false });
    expect((await pay(shop.api, { shopper_ip: FR_IP })).body.status).toBe('succeeded');
    await configure('card_testing', { enabled: true });
    // The window passes: the declines no longer count.
    await advanceClock(601);
    expect((await pay(shop.api, { customer })).body.status).toBe('succeeded');
    await configure('card_testing', { thresholds: { max_declines: 10 } });
  });

  it('blocklists: a listed card, email or IP is blocked until removed; changes audited', async () => {
    const shop = await createMerchant(t, 'Blocklist shop');
    const first = await pay(shop.api);
    const charge = await shop.api.get<{ payment_method_details: { card: { fingerprint: string } } }>(
      `/v1/charges/${first.body.latest_charge}`,
    );
    const fingerprint = charge.body.payment_method_details.card.fingerprint;

    const bad: [Record<string, unknown>, string][] = [
      [{ kind: 'ip_address', value: 'not-an-ip' }, 'value'],
      [{ kind: 'email', value: 'nobody' }, 'value'],
      [{ kind: 'phone', value: '1' }, 'kind'],
    ];
    for (const [body, param] of bad) {
      const reply = await t.admin.post<ErrorBody>('/admin/fraud/blocklist', body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.error.param).toBe(param);
    }

    const entries: Record<string, string> = {};
    for (const [kind, value] of [
      ['card_fingerprint', fingerprint],
      ['email', 'Fraudster@Example.test'],
      ['ip_address', '203.0.113.9'],
    ] as const) {
      const added = await t.admin.post<{ id: string; value: string }>('/admin/fraud/blocklist', {
        kind,
        value,
      });
      expect(added.status, added.text).toBe(200);
      entries[kind] = added.body.id;
    }
    const duplicate = await t.admin.post<ErrorBody>('/admin/fraud/blocklist', {
      kind: 'email',
      value: 'fraudster@example.test',
    });
    expect(duplicate.status).toBe(400);
    expect(duplicate.body.error.param).toBe('value');

    const charges = await emulatorCharges();
    const byCard = await pay(shop.api);
    expect(byCard.status).toBe(402);
    expect(byCard.body.error.decline_code).toBe('merchant_blacklist');
    const otherCard = { payment_method: 'pm_card_mastercard' };
    expect(
      (await pay(shop.api, { ...otherCard, receipt_email: 'fraudster@example.test' })).body.error
        .decline_code,
    ).toBe('merchant_blacklist');
    expect((await pay(shop.api, { ...otherCard, shopper_ip: '203.0.113.9' })).status).toBe(402);
    expect(await emulatorCharges()).toBe(charges);

    await configure('blocklist', { enabled: false });
    expect((await pay(shop.api)).body.status).toBe('succeeded');
    await configure('blocklist', { enabled: true });

    const removed = await t.admin.delete(`/admin/fraud/blocklist/${entries.card_fingerprint}`);
    expect(removed.status, removed.text).toBe(200);
    expect((await pay(shop.api)).body.status).toBe('succeeded');
    expect((await t.admin.delete(`/admin/fraud/blocklist/${entries.card_fingerprint}`)).status).toBe(404);
    const listed = await t.admin.get<{ data: { id: string }[] }>('/admin/fraud/blocklist');
    expect(listed.body.data.map((entry) => entry.id).sort()).toEqual(
      [entries.email, entries.ip_address].sort(),
    );

    const audit = await t.admin.get<{ data: AuditEntry[] }>('/admin/audit', { limit: 100 });
    const actions = audit.body.data.filter((entry) => entry.action.startsWith('fraud_blocklist.'));
    expect(actions.map((entry) => entry.action)).toEqual([
      'fraud_blocklist.remove',
      'fraud_blocklist.add',
      'fraud_blocklist.add',
      'fraud_blocklist.add',
    ]);
    // Personal data by reference: the audit names the entry, not the email or IP.
    expect(JSON.stringify(actions)).not.toContain('fraudster');
  });
});
