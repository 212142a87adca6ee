// The admin API the operator dashboard reads and acts through (issue 10), over HTTP: the overview
// moves by exactly the payments made (declines apart from the success rate, volume per currency, the
// series' buckets, alerts for the kill switch and an open circuit), the card last4 filter, a payment's
// timeline, and the operator actions (capture, review approval, dispute evidence) a viewer may not take.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Api } from './support/http.js';
import { startTestService, type TestService } from './support/service.js';
import { waitFor } from './support/wait.js';
import { type Receiver, startReceiver } from './support/webhook-receiver.js';

let t: TestService;
let stripe: Api;
let viewer: Api;
let receiver: Receiver;

type ErrorBody = { error: { type: string; code: string; param?: string; message: string } };
type Intent = { id: string; status: string; latest_charge: string | null; amount: number };
interface Overview {
  object: string;
  window: string;
  livemode: boolean;
  since: number;
  until: number;
  payments: {
    attempts: number;
    succeeded: number;
    declined: number;
    failed: number;
    success_rate: number | null;
    decline_rate: number | null;
  };
  volume: { gateway: string; currency: string; count: number; amount: number }[];
  p99_processing_ms: number | null;
  gateway_errors: { gateway: string; count: number }[];
  dispute_rate: number | null;
  refund_rate: number | null;
  series: { start: number; succeeded: number; declined: number; failed: number }[];
  alerts: { kill_switch: boolean; open_circuits: string[] };
}

beforeAll(async () => {
  // No fallback: the payment Stripe refuses stays one failed attempt instead of going on to PayPal.
  t = await startTestService({
    env: { FALLBACK_PROVIDER_ENABLED: 'false', ALLOW_PRIVATE_WEBHOOK_URLS: 'true' },
  });
  receiver = await startReceiver(() => t.service.clock.now().getTime());
  stripe = new Api(t.service.providers.emulators.stripe?.url as string);
  const email = 'dashboard-viewer@example.test';
  const password = 'a long enough password';
  const created = await t.admin.post('/admin/operators', { email, password, role: 'payment-viewer' });
  expect(created.status, created.text).toBe(200);
  const login = await t.api.post<{ token: string }>('/admin/login', { email, password });
  expect(login.status, login.text).toBe(200);
  viewer = t.api.withKey(login.body.token);
});
afterAll(async () => {
  await receiver?.close();
  await t?.close();
});
afterEach(async () => {
  await stripe.delete('/_emulator/faults');
});

/** Creates and confirms a payment; a refused one (402, 503) answers with its intent inside the error. */
async function pay(extra: Record<string, unknown> = {}): Promise<Intent> {
  const reply = await t.merchant.post<Intent & { error?: { payment_intent?: Intent } }>(
    '/v1/payment_intents',
    {
      amount: 1500,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: 'true',
      ...extra,
    },
  );
  const intent = reply.body.error?.payment_intent ?? reply.body;
  expect(intent.id, reply.text).toMatch(/^pi_/);
  return intent;
}

async function overview(query: Record<string, unknown> = {}, api: Api = t.admin) {
  const reply = await api.get<Overview>('/admin/overview', query);
  expect(reply.status, reply.text).toBe(200);
  return reply.body;
}

describe('GET /admin/overview', () => {
  it('moves by exactly the payments made: declines apart, volume per currency, the newest bucket', async () => {
    const before = await overview();
    expect(before).toMatchObject({ object: 'dashboard_overview', window: '24h', livemode: false });
    expect(before.until - before.since).toBe(86_400);

    expect((await pay()).status).toBe('succeeded');
    expect((await pay({ currency: 'eur', amount: 2300 })).status).toBe('succeeded');
    expect((await pay({ payment_method: 'pm_card_chargeDeclined' })).status).toBe('requires_payment_method');
    // Stripe refuses the request outright: an error of the gateway, not the card holder's bank.
    expect(
      (await stripe.post('/_emulator/faults', { error_rate: 1, status: 400 }, { as: 'json' })).status,
    ).toBe(200);
    expect((await pay()).status).toBe('requires_payment_method');
    await stripe.delete('/_emulator/faults');

    const after = await overview();
    const moved = (key: keyof Overview['payments']) =>
      (after.payments[key] as number) - (before.payments[key] as number);
    expect([moved('attempts'), moved('succeeded'), moved('declined'), moved('failed')]).toEqual([4, 2, 1, 1]);
    // Declines stay out of the success rate: 2 of the 3 judged by us and the gateway succeeded.
    expect(after.payments.success_rate).toBeCloseTo(2 / 3, 10);
    expect(after.payments.decline_rate).toBeCloseTo(1 / 4, 10);
    expect(after.volume).toEqual([
      { gateway: 'stripe', currency: 'eur', count: 1, amount: 2300 },
      { gateway: 'stripe', currency: 'usd', count: 1, amount: 1500 },
    ]);
    expect(after.gateway_errors).toEqual([{ gateway: 'stripe', count: 1 }]);
    expect(after.p99_processing_ms).toEqual(expect.any(Number));
    expect(after.p99_processing_ms).toBeGreaterThanOrEqual(0);
    expect(after.refund_rate).toBe(0);
    expect(after.dispute_rate).toBe(0);

    expect(after.series).toHaveLength(24);
    expect(after.series[0]?.start).toBe(after.since);
    expect(after.series[1]?.start).toBe(after.since + 3600);
    expect(after.series.at(-1)).toEqual({
      start: after.since + 23 * 3600,
      succeeded: 2,
      declined: 1,
      failed: 1,
    });
    expect(after.series.slice(0, -1).every((b) => b.succeeded + b.declined + b.failed === 0)).toBe(true);

    // Live mode saw none of them.
    const live = await overview({ livemode: 'true' });
    expect(live.livemode).toBe(true);
    expect(live.payments).toEqual({
      attempts: 0,
      succeeded: 0,
      declined: 0,
      failed: 0,
      success_rate: null,
      decline_rate: null,
    });
    expect(live.volume).toEqual([]);
    expect(live.p99_processing_ms).toBeNull();
    expect(live.dispute_rate).toBeNull();
  });

  it('cuts each window into its buckets, the newest payment in the last', async () => {
    for (const [window, count, size] of [
      ['1h', 12, 300],
      ['24h', 24, 3600],
      ['7d', 28, 21_600],
    ] as const) {
      const body = await overview({ window });
      expect(body.window).toBe(window);
      expect(body.until - body.since).toBe(count * size);
      expect(body.series).toHaveLength(count);
      expect(body.series.map((b) => b.start - body.since)).toEqual(
        Array.from({ length: count }, (_, i) => i * size),
      );
      expect(body.series.at(-1)?.succeeded).toBeGreaterThanOrEqual(2);
      const summed = body.series.reduce((n, b) => n + b.succeeded, 0);
      expect(summed).toBe(body.payments.succeeded);
    }
  });

  it('shows the kill switch and an open circuit in its alerts', async () => {
    expect((await overview()).alerts).toEqual({ kill_switch: false, open_circuits: [] });
    const killed = await t.admin.post('/admin/flags/payments_live_v1/kill', { reason: 'dashboard test' });
    expect(killed.status, killed.text).toBe(200);
    const opened = await t.admin.post('/admin/providers/stripe/circuit', { state: 'open' });
    expect(opened.status, opened.text).toBe(200);
    try {
      expect((await overview({}, viewer)).alerts).toEqual({ kill_switch: true, open_circuits: ['stripe'] });
    } finally {
      expect((await t.admin.post('/admin/flags/payments_live_v1/enable')).status).toBe(200);
      expect((await t.admin.post('/admin/providers/stripe/circuit', { state: 'auto' })).status).toBe(200);
    }
    expect((await overview()).alerts).toEqual({ kill_switch: false, open_circuits: [] });
  });

  it('answers 400 naming window or livemode for a bad value', async () => {
    for (const [query, param] of [
      [{ window: '2h' }, 'window'],
      [{ livemode: 'maybe' }, 'livemode'],
    ] as const) {
      const reply = await t.admin.get<ErrorBody>('/admin/overview', query);
      expect(reply.status, reply.text).toBe(400);
      expect(reply.body.error.param).toBe(param);
    }
  });
});

describe('GET /admin/payment_intents?last4=', () => {
  it("finds a payment by its card's last 4 digits, not another card's, with the other filters", async () => {
    const visa = await pay({ amount: 4242, metadata: { test: 'last4' } });
    const mastercard = await pay({ amount: 4242, payment_method: 'pm_card_mastercard' });
    const declined = await pay({ amount: 4243, payment_method: 'pm_card_chargeDeclined' });
    const ids = async (path: string, query: Record<string, unknown>) => {
      const reply = await t.admin.get<{ data: { id: string }[] }>(path, query);
      expect(reply.status, reply.text).toBe(200);
      return reply.body.data.map((p) => p.id);
    };
    const byVisa = await ids('/admin/payment_intents', { last4: '4242', amount: 4242 });
    expect(byVisa).toEqual([visa.id]);
    expect(await ids('/admin/payment_intents', { last4: '4444', amount: 4242 })).toEqual([mastercard.id]);
    expect(await ids('/admin/payment_intents', { last4: '0002', amount: { gte: 4242 } })).toEqual([
      declined.id,
    ]);
    expect(await ids('/admin/payment_intents', { last4: '4444', livemode: 'true' })).toEqual([]);
    expect(
      await ids('/admin/payment_intents/search', { query: "metadata['test']:'last4'", last4: '4242' }),
    ).toEqual([visa.id]);
    expect(
      await ids('/admin/payment_intents/search', { query: "metadata['test']:'last4'", last4: '4444' }),
    ).toEqual([]);
    for (const bad of ['424', '42424', 'abcd']) {
      const reply = await t.admin.get<ErrorBody>('/admin/payment_intents', { last4: bad });
      expect(reply.status, reply.text).toBe(400);
      expect(reply.body.error.param).toBe('last4');
    }
  });
});

interface Timeline {
  object: string;
  payment: { id: string; status: string };
  attempts: { id: string; provider_payment_id: string; status: string; created: number }[];
  events: { id: string; type: string; created: number; data: { object: { id: string } } }[];
  webhooks_in: { provider: string; subject: string; type: string; occurred_at: number }[];
  deliveries: {
    event: string;
    endpoint_url: string;
    status: string;
    attempts: number;
    last_status_code: number | null;
  }[];
  ledger: {
    transaction: string;
    account: string;
    direction: string;
    amount: number;
    currency: string;
    created: number;
  }[];
  fraud: { action: string } | null;
  reviews: { id: string; open: boolean }[];
  refunds: { id: string; amount: number; status: string }[];
  disputes: { id: string; evidence_details: { due_by: number | null } }[];
}

const inOrder = (times: number[]) => times.every((time, i) => i === 0 || (times[i - 1] as number) <= time);

describe('GET /admin/payment_intents/:id/timeline', () => {
  it('tells a refunded payment: attempts, events and their delivery, provider events, postings, the refund', async () => {
    const endpoint = await t.merchant.post<{ id: string }>('/v1/webhook_endpoints', {
      url: receiver.url,
      enabled_events: ['*'],
    });
    expect(endpoint.status, endpoint.text).toBe(200);
    const paid = await pay({ amount: 5100 });
    expect(paid.status).toBe('succeeded');
    const refund = await t.merchant.post<{ id: string; status: string }>('/v1/refunds', {
      payment_intent: paid.id,
      amount: 1100,
    });
    expect(refund.status, refund.text).toBe(200);
    await waitFor(
      'the deliveries of the payment events',
      async () => receiver.received.length >= 3 || undefined,
    );

    // The viewer reads it too; the provider's own events arrive through the inbox.
    const timeline = await waitFor('the provider events in the timeline', async () => {
      const reply = await viewer.get<Timeline>(`/admin/payment_intents/${paid.id}/timeline`);
      expect(reply.status, reply.text).toBe(200);
      return reply.body.webhooks_in.length > 0 && reply.body.deliveries.some((d) => d.status === 'succeeded')
        ? reply.body
        : undefined;
    });
    expect(timeline).toMatchObject({
      object: 'payment_timeline',
      payment: { id: paid.id, status: 'succeeded' },
    });
    expect(timeline.attempts).toHaveLength(1);
    expect(timeline.attempts[0]?.status).toBe('succeeded');
    const types = timeline.events.map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(['payment_intent.succeeded', 'charge.succeeded', 'charge.refunded']),
    );
    expect(inOrder(timeline.events.map((e) => e.created))).toBe(true);
    const succeededEvent = timeline.events.find((e) => e.type === 'payment_intent.succeeded');
    expect(timeline.deliveries).toContainEqual(
      expect.objectContaining({
        event: succeededEvent?.id,
        endpoint_url: receiver.url,
        status: 'succeeded',
        last_status_code: 200,
      }),
    );
    expect(timeline.webhooks_in.every((w) => w.provider === 'stripe')).toBe(true);
    expect(timeline.webhooks_in.map((w) => w.subject)).toContain(timeline.attempts[0]?.provider_payment_id);
    expect(timeline.refunds).toEqual([expect.objectContaining({ id: refund.body.id, amount: 1100 })]);
    // Postings: each transaction sums to zero per currency, the charge's and the refund's among them.
    expect(timeline.ledger.length).toBeGreaterThanOrEqual(4);
    const sums = new Map<string, number>();
    for (const p of timeline.ledger) {
      expect(p.direction).toBe(p.amount > 0 ? 'increase' : 'decrease');
      sums.set(p.transaction, (sums.get(p.transaction) ?? 0) + p.amount);
    }
    expect(sums.size).toBeGreaterThanOrEqual(2);
    expect([...sums.values()].every((sum) => sum === 0)).toBe(true);
    expect(timeline.ledger.some((p) => p.amount === 5100 || p.amount === -5100)).toBe(true);
    expect(inOrder(timeline.ledger.map((p) => p.created))).toBe(true);
    expect(timeline.fraud).toMatchObject({ action: 'allow' });
    expect(timeline.reviews).toEqual([]);
    expect(timeline.disputes).toEqual([]);

    const missing = await t.admin.get<ErrorBody>('/admin/payment_intents/pi_missing/timeline');
    expect(missing.status).toBe(404);
  });
});

type AuditRow = {
  action: string;
  outcome: string;
  actor: { type: string };
  resource: { type: string; id: string } | null;
};
async function auditOf(action: string, resource: string) {
  const reply = await t.admin.get<{ data: AuditRow[] }>('/admin/audit', { action, resource });
  expect(reply.status, reply.text).toBe(200);
  return reply.body.data;
}

describe('operator actions', () => {
  it('captures an authorized payment, partly, through the payments flow; audited; a viewer is refused', async () => {
    const held = await pay({ capture_method: 'manual', amount: 3000 });
    expect(held.status).toBe('requires_capture');
    const denied = await viewer.post<ErrorBody>(`/admin/payment_intents/${held.id}/capture`, {
      amount_to_capture: 2000,
    });
    expect(denied.status, denied.text).toBe(403);

    const captured = await t.admin.post<{ id: string; status: string; amount_received: number }>(
      `/admin/payment_intents/${held.id}/capture`,
      { amount_to_capture: 2000 },
    );
    expect(captured.status, captured.text).toBe(200);
    expect(captured.body).toMatchObject({ id: held.id, status: 'succeeded', amount_received: 2000 });
    expect(captured.body).not.toHaveProperty('client_secret');
    const asMerchant = await t.merchant.get<{ status: string; amount_received: number }>(
      `/v1/payment_intents/${held.id}`,
    );
    expect(asMerchant.body).toMatchObject({ status: 'succeeded', amount_received: 2000 });

    // A second capture is refused by the payment's own rules, and the refusal is audited too.
    const again = await t.admin.post<ErrorBody>(`/admin/payment_intents/${held.id}/capture`);
    expect(again.status, again.text).toBe(400);
    expect((await t.admin.post(`/admin/payment_intents/pi_missing/capture`)).status).toBe(404);
    const audit = await auditOf('payment_intent.capture', held.id);
    expect(audit.map((row) => row.outcome).sort()).toEqual(['failure', 'success']);
    expect(audit.every((row) => row.actor.type === 'operator')).toBe(true);
  });

  it('lists open reviews and approves one, which captures the held payment; audited; a viewer is refused', async () => {
    const rule = (body: Record<string, unknown>) =>
      t.admin.post('/admin/fraud/rules/amount_limit', body, { as: 'json' });
    const limited = await rule({
      action: 'review',
      thresholds: { default_limits: {}, merchant_limits: { [t.merchantId]: { usd: 900_000 } } },
    });
    expect(limited.status, limited.text).toBe(200);
    let held: Intent & { review?: string };
    try {
      held = await pay({ amount: 950_000 });
    } finally {
      await rule({ action: 'block', thresholds: { default_limits: {}, merchant_limits: {} } });
    }
    expect(held.status).toBe('requires_capture');
    expect(held.review).toMatch(/^prv_/);

    type ReviewList = { data: { id: string; open: boolean; merchant: string; payment_intent: string }[] };
    const open = await viewer.get<ReviewList>('/admin/reviews', { open: 'true', livemode: 'false' });
    expect(open.status, open.text).toBe(200);
    expect(open.body.data).toContainEqual(
      expect.objectContaining({
        id: held.review,
        open: true,
        merchant: t.merchantId,
        payment_intent: held.id,
      }),
    );
    expect((await t.admin.get<ReviewList>('/admin/reviews', { livemode: 'true' })).body.data).toEqual([]);
    const badOpen = await t.admin.get<ErrorBody>('/admin/reviews', { open: 'perhaps' });
    expect(badOpen.status).toBe(400);
    expect(badOpen.body.error.param).toBe('open');

    expect((await viewer.post(`/admin/reviews/${held.review}/approve`)).status).toBe(403);
    const approved = await t.admin.post<{ id: string; open: boolean; closed_reason: string }>(
      `/admin/reviews/${held.review}/approve`,
    );
    expect(approved.status, approved.text).toBe(200);
    expect(approved.body).toMatchObject({ id: held.review, open: false, closed_reason: 'approved' });
    expect((await t.merchant.get<Intent>(`/v1/payment_intents/${held.id}`)).body.status).toBe('succeeded');
    const closed = await t.admin.get<ReviewList>('/admin/reviews', { open: 'false' });
    expect(closed.body.data.map((r) => r.id)).toContain(held.review);
    expect((await t.admin.post(`/admin/reviews/${held.review}/approve`)).status).toBe(400);
    const audit = await auditOf('review.approve', held.review as string);
    expect(audit.map((row) => row.outcome).sort()).toEqual(['failure', 'success']);

    // The timeline shows the fraud decision and the review.
    const timeline = (await viewer.get<Timeline>(`/admin/payment_intents/${held.id}/timeline`)).body;
    expect(timeline.fraud).toMatchObject({ action: 'review' });
    expect(timeline.reviews).toEqual([expect.objectContaining({ id: held.review, open: false })]);
  });
});

describe('disputes for operators', () => {
  type Dispute = {
    id: string;
    status: string;
    merchant: string;
    payment_intent: string;
    created: number;
    evidence: Record<string, string | null>;
    evidence_details: { due_by: number | null; has_evidence: boolean; submission_count: number };
  };
  type DisputeList = { data: Dispute[]; has_more: boolean };

  it('lists disputes with their due dates and filters; takes evidence on behalf of the merchant, audited', async () => {
    const disputed = await pay({ amount: 2600, payment_method: 'pm_card_createDispute' });
    expect(disputed.status).toBe('succeeded');
    const dispute = await waitFor('the dispute to arrive from the provider', async () => {
      const list = await viewer.get<DisputeList>('/admin/disputes', { livemode: 'false' });
      expect(list.status, list.text).toBe(200);
      return list.body.data.find((d) => d.payment_intent === disputed.id);
    });
    expect(dispute).toMatchObject({ merchant: t.merchantId, status: 'needs_response' });
    const dueBy = dispute.evidence_details.due_by as number;
    expect(dueBy).toBeGreaterThan(dispute.created);

    const ids = async (query: Record<string, unknown>) =>
      (await t.admin.get<DisputeList>('/admin/disputes', query)).body.data.map((d) => d.id);
    expect(await ids({ status: 'needs_response', due_before: dueBy + 1 })).toContain(dispute.id);
    expect(await ids({ due_before: dueBy })).not.toContain(dispute.id);
    expect(await ids({ status: 'won' })).not.toContain(dispute.id);
    expect(await ids({ livemode: 'true' })).toEqual([]);
    for (const [query, param] of [
      [{ status: 'angry' }, 'status'],
      [{ due_before: 'soon' }, 'due_before'],
      [{ livemode: 'maybe' }, 'livemode'],
    ] as const) {
      const reply = await t.admin.get<ErrorBody>('/admin/disputes', query);
      expect(reply.status, reply.text).toBe(400);
      expect(reply.body.error.param).toBe(param);
    }
    // The overview counts it against the window's succeeded charges.
    expect((await overview()).dispute_rate).toBeGreaterThan(0);

    const path = `/admin/disputes/${dispute.id}/evidence`;
    const evidence = { evidence: { product_description: 'Blue mug', customer_name: 'Ada' }, submit: false };
    expect((await viewer.post(path, evidence, { as: 'json' })).status).toBe(403);
    const saved = await t.admin.post<Dispute>(path, evidence, { as: 'json' });
    expect(saved.status, saved.text).toBe(200);
    expect(saved.body).toMatchObject({
      id: dispute.id,
      status: 'needs_response',
      evidence: { product_description: 'Blue mug', customer_name: 'Ada' },
      evidence_details: { has_evidence: true, submission_count: 0 },
    });
    const bad = await t.admin.post<ErrorBody>(
      path,
      { evidence: { favourite_colour: 'blue' } },
      { as: 'json' },
    );
    expect(bad.status, bad.text).toBe(400);
    expect(bad.body.error.param).toMatch(/^evidence/);
    const submitted = await t.admin.post<Dispute>(path, { submit: true }, { as: 'json' });
    expect(submitted.status, submitted.text).toBe(200);
    expect(submitted.body.evidence_details.submission_count).toBe(1);
    expect(submitted.body.status).not.toBe('needs_response');
    const audit = await auditOf('dispute.evidence', dispute.id);
    expect(audit.map((row) => row.outcome)).toEqual(['success', 'success']);

    const timeline = (await viewer.get<Timeline>(`/admin/payment_intents/${disputed.id}/timeline`)).body;
    expect(timeline.disputes).toEqual([
      expect.objectContaining({
        id: dispute.id,
        evidence_details: expect.objectContaining({ due_by: dueBy }),
      }),
    ]);
    expect(timeline.events.map((e) => e.type)).toContain('charge.dispute.created');
  });
});
