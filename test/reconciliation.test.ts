// Reconciliation (runbook 004, issue 8) over HTTP against the service and the Stripe emulator: a payment
// left processing whose charge succeeded is settled with its events and ledger posting exactly once,
// also with the provider's webhook arriving at the same moment; a charge made at the provider without
// us is flagged and refunded or adopted on an operator's (audited) decision; a second charge for one of
// our payments is a duplicate; a payment the provider lacks is flagged; the rest match; bad input is a
// 4xx naming the parameter; the 15-minute pass picks payments pending for more than 10 minutes.
import { sql } from 'kysely';
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { postingKey } from '../src/modules/ledger/ledger.postings.js';
import type { Api } from './support/http.js';
import { inboxSettled } from './support/inbox.js';
import { runPayctl } from './support/processes.js';
import { embeddedStripe } from './support/provider-harness.js';
import { startTestService, type TestService } from './support/service.js';
import { waitFor } from './support/wait.js';

const WEBHOOK_SECRET = 'whsec_reconciliation_test';

type Intent = { id: string; status: string; amount_received: number; latest_charge: string | null };
type Counts = Record<string, number>;
type Run = { id: string; status: string; kind: string; trigger: string; counts: Counts };
type Finding = {
  id: string;
  kind: string;
  resolution: string;
  payment_intent: string | null;
  attempt: string | null;
  provider_payment_id: string | null;
  provider_charge_id: string | null;
  merchant: string | null;
  amount: number | null;
};
type Report = { run: Run; findings: Finding[]; has_more: boolean };
type ErrorBody = { error: { param?: string; code?: string } };

let t: TestService;
let emulator: Api;
let stripe: Stripe;
beforeAll(async () => {
  t = await startTestService({ env: { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET } });
  ({ stripe, emulator } = embeddedStripe(t));
});
afterAll(async () => {
  await t.close();
});
afterEach(async () => {
  await emulator.delete('/_emulator/faults');
  t.service.providers.listening(t.url);
});

const db = () => t.service.database.db;

async function pay(): Promise<Intent> {
  const reply = await t.merchant.post<Intent>('/v1/payment_intents', {
    amount: 1200,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    confirm: 'true',
  });
  expect(reply.status, reply.text).toBe(200);
  return reply.body;
}

/** A payment the provider charged whose answer was lost and whose webhooks went nowhere: processing. */
async function chargedButProcessing(): Promise<Intent> {
  await emulator.post(
    '/_emulator/webhook_target',
    { url: 'http://127.0.0.1:9/x', secret: 'whsec_x' },
    { as: 'json' },
  );
  await emulator.post('/_emulator/faults', { mode: 'drop_after_charge' }, { as: 'json' });
  const intent = await pay();
  expect(intent.status).toBe('processing');
  await emulator.delete('/_emulator/faults');
  return intent;
}

async function attemptOf(intentId: string) {
  return db()
    .selectFrom('payment_attempts')
    .selectAll()
    .where('payment_intent_id', '=', intentId)
    .executeTakeFirstOrThrow();
}

/** Starts a window run over HTTP and waits for it to finish; returns its report. */
async function reconcile(params: Record<string, unknown> = { since: '1h' }): Promise<Report> {
  const started = await t.admin.post<Run>('/admin/reconciliation/runs', params, { as: 'json' });
  expect(started.status, started.text).toBe(200);
  expect(started.body.status).toBe('running');
  await waitFor(
    'the run to finish',
    async () => {
      const reply = await t.admin.get<Report>(`/admin/reconciliation/runs/${started.body.id}`);
      return reply.body.run.status !== 'running';
    },
    20_000,
  );
  const report = await t.admin.get<Report>(`/admin/reconciliation/runs/${started.body.id}`, { limit: 1000 });
  expect(report.body.run.status, JSON.stringify(report.body.run)).toBe('completed');
  return report.body;
}

async function eventsAbout(type: string, objectId: string): Promise<number> {
  const rows = await sql<{ n: number }>`
    select count(*)::int as n from events where type = ${type} and data -> 'object' ->> 'id' = ${objectId}`.execute(
    db(),
  );
  return rows.rows[0]?.n ?? 0;
}

async function chargePostings(attemptId: string): Promise<number> {
  const rows = await db()
    .selectFrom('ledger_transactions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('key', '=', postingKey(attemptId, 'charge'))
    .executeTakeFirstOrThrow();
  return Number(rows.n);
}

/** What a settled payment must show: succeeded, one charge event, one intent event, one ledger posting. */
async function expectSettledOnce(intentId: string) {
  const intent = (await t.merchant.get<Intent>(`/v1/payment_intents/${intentId}`)).body;
  expect(intent.status).toBe('succeeded');
  expect(intent.amount_received).toBe(1200);
  const attempt = await attemptOf(intentId);
  expect(await chargePostings(attempt.id)).toBe(1);
  expect(await eventsAbout('payment_intent.succeeded', intentId)).toBe(1);
  expect(await eventsAbout('charge.succeeded', intent.latest_charge as string)).toBe(1);
}

function signedEvent(providerPaymentId: string, id: string) {
  const now = Math.floor(t.service.clock.now().getTime() / 1000);
  const payload = JSON.stringify({
    id,
    object: 'event',
    type: 'payment_intent.succeeded',
    created: now,
    livemode: false,
    data: { object: { id: providerPaymentId, object: 'payment_intent', status: 'succeeded' } },
  });
  const header = Stripe.webhooks.generateTestHeaderString({
    payload,
    secret: WEBHOOK_SECRET,
    timestamp: now,
  });
  return { payload, header };
}

async function deliverWebhook(providerPaymentId: string, id: string) {
  const { payload, header } = signedEvent(providerPaymentId, id);
  const response = await fetch(`${t.url}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': header },
    body: payload,
  });
  expect(response.status).toBe(200);
}

/** A charge made at the provider on our account without us (another system, a lost record). */
async function providerCharge(metadata: Record<string, string> = {}, amount = 2500) {
  const intent = await stripe.paymentIntents.create({
    amount,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    confirm: true,
    metadata,
  });
  expect(intent.status).toBe('succeeded');
  return intent;
}

describe('reconciliation', { timeout: 120_000 }, () => {
  it('settles a payment left processing whose charge succeeded: status, events, one ledger posting', async () => {
    const intent = await chargedButProcessing();
    const attempt = await attemptOf(intent.id);
    expect(await chargePostings(attempt.id)).toBe(0);
    const matchedBefore = await pay();
    const report = await reconcile();
    const finding = report.findings.find((f) => f.attempt === attempt.id);
    expect(finding, JSON.stringify(report.findings)).toMatchObject({
      kind: 'status_mismatch',
      resolution: 'settled',
    });
    expect(report.run.counts.settled).toBeGreaterThanOrEqual(1);
    await expectSettledOnce(intent.id);
    // A plain payment matches and has no finding.
    expect(report.run.counts.matched).toBeGreaterThanOrEqual(1);
    expect(report.findings.some((f) => f.payment_intent === matchedBefore.id)).toBe(false);
    // The provider's webhook arriving afterwards changes nothing, and a second run finds it matched.
    await deliverWebhook(attempt.provider_payment_id as string, 'evt_recon_late');
    await inboxSettled(t);
    await expectSettledOnce(intent.id);
    const again = await reconcile();
    expect(again.findings.some((f) => f.attempt === attempt.id)).toBe(false);
  });

  it('settles exactly once when the webhook arrives at the same time as the run', async () => {
    const intent = await chargedButProcessing();
    const attempt = await attemptOf(intent.id);
    await Promise.all([reconcile(), deliverWebhook(attempt.provider_payment_id as string, 'evt_recon_race')]);
    await inboxSettled(t);
    await expectSettledOnce(intent.id);
  });

  it('flags a charge unknown to us; an operator refunds it at the provider, once, audited', async () => {
    const unknown = await providerCharge();
    const report = await reconcile();
    const finding = report.findings.find((f) => f.provider_payment_id === unknown.id);
    expect(finding, JSON.stringify(report.findings)).toMatchObject({
      kind: 'unknown_at_our_side',
      resolution: 'open',
      amount: 2500,
    });
    const refunded = await t.admin.post<Finding>(`/admin/reconciliation/findings/${finding?.id}/refund`);
    expect(refunded.status, refunded.text).toBe(200);
    expect(refunded.body.resolution).toBe('refunded');
    const charge = await stripe.charges.retrieve(unknown.latest_charge as string);
    expect(charge.amount_refunded).toBe(2500);
    const twice = await t.admin.post<ErrorBody>(`/admin/reconciliation/findings/${finding?.id}/refund`);
    expect(twice.status).toBe(409);
    expect((await stripe.refunds.list({ charge: charge.id })).data).toHaveLength(1);
    const audit = await t.admin.get<{ data: { resource: { id: string }; outcome: string }[] }>(
      '/admin/audit',
      {
        action: 'reconciliation.finding.refund',
      },
    );
    expect(
      audit.body.data.filter((row) => row.resource.id === finding?.id && row.outcome === 'success'),
    ).toHaveLength(1);
    // Refunded in full, it is no longer flagged.
    const next = await reconcile();
    expect(next.findings.some((f) => f.provider_payment_id === unknown.id)).toBe(false);
  });

  it('an operator adopts an unknown charge: a payment of the merchant with its charge and posting', async () => {
    const unknown = await providerCharge({ merchant_id: t.merchantId }, 3100);
    const report = await reconcile();
    const finding = report.findings.find((f) => f.provider_payment_id === unknown.id);
    expect(finding).toMatchObject({ kind: 'unknown_at_our_side', merchant: t.merchantId });
    const adopted = await t.admin.post<Finding>(`/admin/reconciliation/findings/${finding?.id}/adopt`);
    expect(adopted.status, adopted.text).toBe(200);
    expect(adopted.body.resolution).toBe('adopted');
    const intent = await t.merchant.get<Intent>(`/v1/payment_intents/${adopted.body.payment_intent}`);
    expect(intent.body).toMatchObject({ status: 'succeeded', amount_received: 3100 });
    expect(await chargePostings(adopted.body.attempt as string)).toBe(1);
    expect(await eventsAbout('payment_intent.succeeded', intent.body.id)).toBe(1);
    const audit = await t.admin.get<{ data: { resource: { id: string } }[] }>('/admin/audit', {
      action: 'reconciliation.finding.adopt',
    });
    expect(audit.body.data.some((row) => row.resource.id === finding?.id)).toBe(true);
    expect((await t.admin.post(`/admin/reconciliation/findings/${finding?.id}/adopt`)).status).toBe(409);
    // Now ours: the next run matches it.
    const next = await reconcile();
    expect(next.findings.some((f) => f.provider_payment_id === unknown.id)).toBe(false);
  });

  it('flags a second provider charge for one of our payments as a duplicate', async () => {
    const ours = await pay();
    const second = await providerCharge({ payment_intent_id: ours.id, merchant_id: t.merchantId }, 1200);
    const report = await reconcile();
    const finding = report.findings.find((f) => f.provider_payment_id === second.id);
    expect(finding, JSON.stringify(report.findings)).toMatchObject({
      kind: 'duplicate',
      payment_intent: ours.id,
    });
    expect(report.run.counts.duplicate).toBeGreaterThanOrEqual(1);
    const refunded = await t.admin.post<Finding>(`/admin/reconciliation/findings/${finding?.id}/refund`);
    expect(refunded.body.resolution).toBe('refunded');
    // Our own payment is untouched.
    expect((await t.merchant.get<Intent>(`/v1/payment_intents/${ours.id}`)).body.status).toBe('succeeded');
  });

  it('flags a payment the provider has no record of as missing at the provider', async () => {
    const ours = await pay();
    const attempt = await attemptOf(ours.id);
    // What a wrong account or a restored backup leaves: our record names an object the provider lacks.
    await db()
      .updateTable('payment_attempts')
      .set({ provider_payment_id: 'pi_never_at_the_provider' })
      .where('id', '=', attempt.id)
      .execute();
    const report = await reconcile();
    const finding = report.findings.find((f) => f.attempt === attempt.id);
    expect(finding, JSON.stringify(report.findings)).toMatchObject({
      kind: 'missing_at_provider',
      resolution: 'open',
    });
    // Not a provider charge: nothing to refund or adopt.
    expect((await t.admin.post(`/admin/reconciliation/findings/${finding?.id}/refund`)).status).toBe(409);
    expect((await t.admin.post(`/admin/reconciliation/findings/${finding?.id}/adopt`)).status).toBe(409);
  });

  it('lists runs and shows the latest', async () => {
    const runs = await t.admin.get<{ data: Run[]; has_more: boolean }>('/admin/reconciliation/runs', {
      limit: 2,
    });
    expect(runs.status).toBe(200);
    expect(runs.body.data).toHaveLength(2);
    expect(runs.body.has_more).toBe(true);
    const latest = await t.admin.get<Report>('/admin/reconciliation/runs/latest');
    expect(latest.body.run.id).toBe(runs.body.data[0]?.id);
  });

  it('payctl reconcile run and report, over --url, as tables and --json', async () => {
    const remote = ['--url', t.url, '--token', t.adminToken];
    const run = await runPayctl([...remote, '--json', 'reconcile', 'run', '--since', '2h'], {
      LOG_LEVEL: 'warn',
    });
    expect(run.code, run.output).toBe(0);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.run).toMatchObject({ status: 'completed', kind: 'window', trigger: 'operator' });
    expect(report.run.counts.matched).toBeGreaterThanOrEqual(1);
    const table = await runPayctl([...remote, 'reconcile', 'report', report.run.id], { LOG_LEVEL: 'warn' });
    expect(table.code, table.output).toBe(0);
    expect(table.stdout).toContain(report.run.id);
    expect(table.stdout).toMatch(/PROVIDER_RECORDS\s+MATCHED/);
    const bad = await runPayctl([...remote, 'reconcile', 'run', '--since', 'soon'], { LOG_LEVEL: 'warn' });
    expect(bad.code).not.toBe(0);
    expect(bad.output).toMatch(/--since/);
  });

  it('answers bad input with a 4xx naming the parameter, and refuses callers without the permission', async () => {
    const runsBefore = (await t.admin.get<{ data: Run[] }>('/admin/reconciliation/runs', { limit: 100 })).body
      .data.length;
    const cases: [Record<string, unknown>, string][] = [
      [{ since: 'yesterday' }, 'since'],
      [{ since: '400d' }, 'since'],
      [{ since: '0' }, 'since'],
      [{ provider: 'adyen' }, 'provider'],
      [{ kind: 'everything' }, 'kind'],
      [{ kind: 'pending', since: '1h' }, 'since'],
      [{ colour: 'red' }, 'colour'],
    ];
    for (const [body, param] of cases) {
      const reply = await t.admin.post<ErrorBody>('/admin/reconciliation/runs', body, { as: 'json' });
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.error.param).toBe(param);
    }
    expect((await t.admin.get('/admin/reconciliation/runs', { limit: 0 })).status).toBe(400);
    expect((await t.admin.get('/admin/reconciliation/runs/rcn_nope')).status).toBe(404);
    expect((await t.admin.post('/admin/reconciliation/findings/rcf_nope/refund')).status).toBe(404);
    const report = await t.admin.get<Report>('/admin/reconciliation/runs/latest', { limit: 1000 });
    const unknown = report.body.findings.find((f) => f.kind === 'missing_at_provider');
    const badMerchant = await t.admin.post<ErrorBody>(`/admin/reconciliation/findings/${unknown?.id}/adopt`, {
      merchant: 'nobody',
    });
    expect(badMerchant.status).toBe(400);
    expect(badMerchant.body.error.param).toBe('merchant');
    expect((await t.api.post('/admin/reconciliation/runs', { since: '1h' })).status).toBe(401);
    const viewer = await t.admin.post('/admin/operators', {
      email: 'recon-viewer@example.test',
      role: 'payment-viewer',
      password: 'a long enough password',
    });
    expect(viewer.status, viewer.text).toBe(200);
    const login = await t.api.post<{ token: string }>('/admin/login', {
      email: 'recon-viewer@example.test',
      password: 'a long enough password',
    });
    const asViewer = t.api.withKey(login.body.token);
    expect((await asViewer.get('/admin/reconciliation/runs')).status).toBe(200);
    expect((await asViewer.post('/admin/reconciliation/runs', { since: '1h' })).status).toBe(403);
    expect((await asViewer.post(`/admin/reconciliation/findings/${unknown?.id}/refund`)).status).toBe(403);
    const runsAfter = (await t.admin.get<{ data: Run[] }>('/admin/reconciliation/runs', { limit: 100 })).body
      .data.length;
    expect(runsAfter).toBe(runsBefore);
  });

  it('runs every 15 minutes and picks the payments pending for more than 10 minutes', async () => {
    const schedule = await db()
      .selectFrom('job_schedules')
      .selectAll()
      .where('name', '=', 'reconciliation.pending')
      .executeTakeFirstOrThrow();
    expect(schedule.interval_seconds).toBe(900);
    // Reads refused (429) from here on: the settlement job cannot settle these either.
    await emulator.post(
      '/_emulator/webhook_target',
      { url: 'http://127.0.0.1:9/x', secret: 'whsec_x' },
      { as: 'json' },
    );
    await emulator.post('/_emulator/faults', { mode: 'drop_after_charge' }, { as: 'json' });
    const old = await pay();
    await emulator.post('/_emulator/faults', { error_rate: 1, status: 429 }, { as: 'json' });
    const advance = async (seconds: number) =>
      expect((await t.api.post('/_test/clock', { advance_seconds: seconds })).status).toBe(200);
    await advance(6 * 60);
    // The settlement job's pass after the move must be over (and refused) before reads are let through.
    await waitFor('the settlement job to check the old payment', async () => {
      const attempt = await attemptOf(old.id);
      return attempt.next_check_at !== null && attempt.next_check_at > t.service.clock.now();
    });
    await emulator.post('/_emulator/faults', { mode: 'drop_after_charge' }, { as: 'json' });
    const young = await pay();
    await emulator.post('/_emulator/faults', { error_rate: 1, status: 429 }, { as: 'json' });
    expect([old.status, young.status]).toEqual(['processing', 'processing']);
    await advance(5 * 60);
    const oldAttempt = await attemptOf(old.id);
    const youngAttempt = await attemptOf(young.id);
    const pass = await t.admin.post<Run>('/admin/reconciliation/runs', { kind: 'pending' }, { as: 'json' });
    expect(pass.status, pass.text).toBe(200);
    const report = (await t.admin.get<Report>(`/admin/reconciliation/runs/${pass.body.id}`, { limit: 1000 }))
      .body;
    const picked = new Set(report.findings.map((f) => f.attempt));
    expect(picked.has(oldAttempt.id), JSON.stringify(report)).toBe(true);
    expect(picked.has(youngAttempt.id)).toBe(false);
    expect(report.findings.find((f) => f.attempt === oldAttempt.id)?.kind).toBe('unresolved');
    // The schedule itself: past its slot, the job records a run of its own.
    await advance(15 * 60);
    const scheduled = await waitFor(
      'a scheduled run',
      async () => {
        const runs = await t.admin.get<{ data: Run[] }>('/admin/reconciliation/runs', { limit: 5 });
        return runs.body.data.find((run) => run.trigger === 'schedule' && run.status !== 'running');
      },
      20_000,
    );
    expect(scheduled.kind).toBe('pending');
    // With the provider readable again and its breaker (opened by the 429s) closed by an operator, the
    // pass settles what the provider finished.
    await emulator.delete('/_emulator/faults');
    const circuit = (state: string) => t.admin.post('/admin/providers/stripe/circuit', { state });
    expect((await circuit('closed')).status).toBe(200);
    try {
      const settle = await t.admin.post<Run>(
        '/admin/reconciliation/runs',
        { kind: 'pending' },
        { as: 'json' },
      );
      expect(settle.status).toBe(200);
      const after = (await t.admin.get<Report>(`/admin/reconciliation/runs/${settle.body.id}`)).body;
      expect(after.findings.find((f) => f.attempt === oldAttempt.id)).toMatchObject({
        kind: 'status_mismatch',
        resolution: 'settled',
      });
    } finally {
      await circuit('auto');
    }
    const intent = await t.merchant.get<Intent>(`/v1/payment_intents/${old.id}`);
    expect(intent.body.status).toBe('succeeded');
    expect(await chargePostings(oldAttempt.id)).toBe(1);
  });
});
