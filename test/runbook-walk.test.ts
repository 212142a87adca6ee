// Walks docs/runbook.md against a live service: each step takes the command the runbook row says to run
// (curl or payctl, with $URL and an operator token as the runbook's conventions set them) and runs it in
// a shell, then checks what an on-call engineer would check. The service runs as a staging replica
// (APP_ENV=staging) so the runbook's staging rollout applies to it.
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rolloutBucket } from '../src/modules/flags/flags.js';
import type { Api } from './support/http.js';
import { embeddedStripe } from './support/provider-harness.js';
import { commandIn, runbookRow, runShell } from './support/runbook-doc.js';
import type { TestService } from './support/service.js';
import { waitFor } from './support/wait.js';
import { type Receiver, startWebhookHarness } from './support/webhook-receiver.js';
import { deliveriesAroundRange, expectRangeReplayedOnce } from './support/webhook-replay.js';

let t: TestService;
let receiver: Receiver;
let close = async () => {};
let emulator: Api;
let stripe: Stripe;
beforeAll(async () => {
  ({ t, receiver, close } = await startWebhookHarness({ APP_ENV: 'staging' }));
  ({ stripe, emulator } = embeddedStripe(t));
});
afterAll(() => close());

const shellEnv = () => ({ URL: t.url, OPS_TOKEN: t.adminToken, SK: t.secretKey });

/** Runs the runbook row's command starting with `prefix`, after `edit` (placeholders), and expects success. */
async function runStep(runbook: string, procedure: string, prefix: string, edit = (c: string) => c) {
  const command = edit(commandIn(runbookRow(runbook, procedure), prefix));
  const result = await runShell(command, shellEnv());
  expect(result.code, `${command}\n${result.stdout}${result.stderr}`).toBe(0);
  return { command, ...result };
}

const pay = (customer?: string) =>
  t.merchant.post<{ id: string; status: string; error?: { code: string } }>('/v1/payment_intents', {
    amount: 1500,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    confirm: 'true',
    ...(customer ? { customer } : {}),
  });

async function advanceClock(seconds: number) {
  const reply = await t.api.post('/_test/clock', { advance_seconds: seconds });
  expect(reply.status, reply.text).toBe(200);
}

describe('docs/runbook.md walked against a live service', { timeout: 120_000 }, () => {
  it('runbook 002 kill switch: new payments stop, refunds go on, lifting it restores payments', async () => {
    const before = await pay();
    expect(before.body.status).toBe('succeeded');

    await runStep('002', 'Immediate Rollback (Kill Switch): disable the flag', 'curl ');
    const refused = await pay();
    expect(refused.status).toBe(503);
    expect(refused.body.error?.code).toBe('payments_disabled');
    const refund = await t.merchant.post<{ status: string }>('/v1/refunds', {
      payment_intent: before.body.id,
      amount: 500,
    });
    expect(refund.status, refund.text).toBe(200);
    expect(refund.body.status).toBe('succeeded');

    const status = await runStep('002', 'Immediate Rollback: verify disabled', 'curl ');
    expect(JSON.parse(status.stdout)).toMatchObject({ killed: true, state: 'killed' });

    await runStep('002', 'Immediate Rollback: kill switch behaviour', 'payctl flags enable');
    const after = await pay();
    expect(after.status, after.text).toBe(200);
    expect(after.body.status).toBe('succeeded');
  });

  it('runbook 002 rollout at 10% admits about a tenth of customers', async () => {
    await runStep('002', 'Step 1: enable feature flag (staging, 10%)', 'curl ');
    // The rollout admits a customer exactly when its bucket (a hash of flag, merchant and customer) is
    // below 10: customers of both kinds are picked by that hash and each must get its answer. (That
    // about a tenth of 200 random customers get in is test/flags.test.ts's.)
    const admitted: string[] = [];
    const refused: string[] = [];
    while (admitted.length < 3 || refused.length < 5) {
      const batch = await Promise.all(
        Array.from({ length: 10 }, () => t.merchant.post<{ id: string }>('/v1/customers', {})),
      );
      for (const customer of batch) {
        const bucket = rolloutBucket('payments_live_v1', `${t.merchantId}:${customer.body.id}`);
        (bucket < 10 ? admitted : refused).push(customer.body.id);
      }
    }
    for (const customer of admitted.slice(0, 3)) {
      const reply = await pay(customer);
      expect(reply.status, reply.text).toBe(200);
    }
    for (const customer of refused.slice(0, 5)) {
      const reply = await pay(customer);
      expect(reply.status, reply.text).toBe(503);
      expect(reply.body.error?.code).toBe('payments_disabled');
    }
    await runStep('002', 'Step 1: enable feature flag (staging, 10%)', 'payctl flags set', (c) =>
      c.replace('--rollout 10', '--rollout 100'),
    );
    expect((await pay()).status).toBe(200);
  });

  it('runbook 003 replay of a time range redelivers each webhook in it once', async () => {
    const range = await deliveriesAroundRange(t, t.merchant, receiver, 3);
    await runStep(
      '003',
      'Webhook Processing Issues 4: replay failed webhooks',
      'payctl webhooks replay',
      (c) => c.replace('2024-01-01', range.from.toISOString()).replace('2024-01-02', range.to.toISOString()),
    );
    await expectRangeReplayedOnce(t, receiver, range);
  });

  it('runbook 002 rollback marking opens a system_rollback review on each recent payment', async () => {
    const recent = await pay();
    expect(recent.body.status).toBe('succeeded');
    await runStep('002', 'Database Rollback: mark recent payments for review', 'payctl rollback');
    const reviews = await t.merchant.get<{
      data: { reason: string; payment_intent: string; open: boolean }[];
    }>('/v1/reviews', { limit: 100 });
    expect(reviews.status, reviews.text).toBe(200);
    const opened = reviews.body.data.find((r) => r.payment_intent === recent.body.id);
    expect(opened).toMatchObject({ reason: 'system_rollback', open: true });
    const audit = await runStep('002', 'Database Rollback: notify finance', 'curl ');
    const rows = JSON.parse(audit.stdout) as { data: { new_value: { affected_count: number } }[] };
    expect(rows.data[0]?.new_value.affected_count).toBeGreaterThanOrEqual(1);
  });

  it('runbook 004 reconciliation settles a processing payment the provider charged, flags an unknown charge and a duplicate', async () => {
    // A charge whose answer was lost and whose webhooks went nowhere: left processing here.
    await emulator.post(
      '/_emulator/webhook_target',
      { url: 'http://127.0.0.1:9/x', secret: 'whsec_x' },
      { as: 'json' },
    );
    await emulator.post('/_emulator/faults', { mode: 'drop_after_charge' }, { as: 'json' });
    const processing = await pay();
    expect(processing.body.status).toBe('processing');
    await emulator.delete('/_emulator/faults');
    // Charges made on the account without us: one unknown, one a second charge for our payment.
    const ours = await pay();
    expect(ours.body.status).toBe('succeeded');
    const unknown = await stripe.paymentIntents.create({
      amount: 2500,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
    });
    const duplicate = await stripe.paymentIntents.create({
      amount: 1500,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      metadata: { payment_intent_id: ours.body.id, merchant_id: t.merchantId },
    });
    try {
      await runStep('004', 'Reconciliation Step 1: export Stripe transactions', 'payctl reconcile run');
      const report = await runStep(
        '004',
        'Post-Incident 2: create reconciliation report',
        'payctl reconcile report',
        (c) => c.replace('payctl ', 'payctl --json ').replace(' [rcn_...]', ''),
      );
      const findings = (
        JSON.parse(report.stdout) as {
          findings: { kind: string; provider_payment_id: string | null; payment_intent: string | null }[];
        }
      ).findings;
      expect(findings.find((f) => f.provider_payment_id === unknown.id)?.kind, report.stdout).toBe(
        'unknown_at_our_side',
      );
      expect(
        findings.find((f) => f.provider_payment_id === duplicate.id),
        report.stdout,
      ).toMatchObject({
        kind: 'duplicate',
        payment_intent: ours.body.id,
      });
      const settled = await t.merchant.get<{ status: string }>(`/v1/payment_intents/${processing.body.id}`);
      expect(settled.body.status).toBe('succeeded');
    } finally {
      t.service.providers.listening(t.url);
    }
  });

  it('runbook 002 preflight flags a 31-day-old key', async () => {
    // The row's own check; preflight exits 1 here anyway (no backup recorded), so only its JSON is read.
    const command = commandIn(
      runbookRow('002', 'Security: API keys rotated within last 30 days'),
      'payctl preflight',
    );
    const fresh = await runShell(command.replace('payctl ', 'payctl --json '), shellEnv());
    type Check = { name: string; status: string; detail: string };
    const keyAge = (stdout: string) =>
      (JSON.parse(stdout) as { checks: Check[] }).checks.find((c) => c.name === 'key_age');
    expect(keyAge(fresh.stdout)?.status, fresh.stdout).toBe('ok');
    await advanceClock(31 * 86_400);
    const aged = await runShell(command.replace('payctl ', 'payctl --json '), shellEnv());
    expect(keyAge(aged.stdout)?.status, aged.stdout).toBe('warn');
    expect(keyAge(aged.stdout)?.detail).toMatch(/older than 30 days .*31 days/);
  });

  // Last: it moves the clock 90 days on, so the merchant's keys (31 days old already) are due.
  it('runbook 003 key rotation keeps the old key through its overlap, then refuses it', async () => {
    const keys = await t.admin.get<{ data: { id: string; kind: string; livemode: boolean }[] }>(
      '/admin/keys',
      {
        merchant: t.merchantId,
      },
    );
    const old = keys.body.data.find((k) => k.kind === 'secret' && !k.livemode);
    expect(old, keys.text).toBeDefined();
    // Past 90 days in steps, the operator token used at each: an account unused for 90 days is disabled.
    for (let month = 0; month < 3; month++) {
      await advanceClock(30 * 86_400);
      expect((await t.admin.get('/admin/me')).status).toBe(200);
    }
    const rotated = await runStep('003', 'API Key Management: rotate API keys', 'payctl keys rotate', (c) =>
      c
        .replace('payctl ', 'payctl --json ')
        .replace('[--overlap SECONDS]', '--overlap 3600')
        .replace(' [--dry-run] [--json]', ''),
    );
    type Rotation = { key: { id: string }; replacement?: { secret: string } };
    const rotations = (JSON.parse(rotated.stdout) as { data: Rotation[] }).data;
    const fresh = rotations.find((r) => r.key.id === old?.id)?.replacement?.secret;
    expect(fresh, rotated.stdout).toMatch(/^sk_test_/);
    const newKey = t.api.withKey(fresh as string);
    expect((await t.merchant.get('/v1/customers')).status).toBe(200);
    expect((await newKey.get('/v1/customers')).status).toBe(200);

    await advanceClock(3601);
    await waitFor('the old key to be refused after its overlap', async () => {
      return (await t.merchant.get('/v1/customers')).status === 401;
    });
    expect((await newKey.get('/v1/customers')).status).toBe(200);
  });
});
