// Walks docs/runbook.md against a live service: each step takes the command the runbook row says to run
// (curl or payctl, with $URL and an operator token as the runbook's conventions set them) and runs it in
// a shell, then checks what an on-call engineer would check. The service runs as a staging replica
// (APP_ENV=staging) so the runbook's staging rollout applies to it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rolloutBucket } from '../src/modules/flags/flags.js';
import { commandIn, runbookRow, runShell } from './support/runbook-doc.js';
import type { TestService } from './support/service.js';
import { waitFor } from './support/wait.js';
import { type Receiver, startWebhookHarness } from './support/webhook-receiver.js';
import { deliveriesAroundRange, expectRangeReplayedOnce } from './support/webhook-replay.js';

let t: TestService;
let receiver: Receiver;
let close = async () => {};
beforeAll(async () => {
  ({ t, receiver, close } = await startWebhookHarness({ APP_ENV: 'staging' }));
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
    // Each customer is admitted exactly when its bucket (a hash of flag, merchant and customer) is below 10.
    const customers = 150;
    const admitted: boolean[] = [];
    const expected: boolean[] = [];
    for (let batch = 0; batch < customers; batch += 10) {
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          const customer = await t.merchant.post<{ id: string }>('/v1/customers', {
            name: `rollout ${batch + i}`,
          });
          const reply = await pay(customer.body.id);
          if (reply.status !== 200) expect(reply.body.error?.code).toBe('payments_disabled');
          return {
            admitted: reply.status === 200,
            bucket: rolloutBucket('payments_live_v1', `${t.merchantId}:${customer.body.id}`),
          };
        }),
      );
      for (const outcome of outcomes) {
        admitted.push(outcome.admitted);
        expected.push(outcome.bucket < 10);
      }
    }
    expect(admitted).toEqual(expected);
    // About a tenth: 15 expected; none admitted, or more than 40, is below one chance in a million.
    const count = admitted.filter(Boolean).length;
    expect(count).toBeGreaterThan(0);
    expect(count).toBeLessThanOrEqual(40);
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

  it('runbook 003 key rotation keeps the old key through its overlap, then refuses it', async () => {
    const keys = await t.admin.get<{ data: { id: string; kind: string; livemode: boolean }[] }>(
      '/admin/keys',
      { merchant: t.merchantId },
    );
    const old = keys.body.data.find((k) => k.kind === 'secret' && !k.livemode);
    expect(old, keys.text).toBeDefined();
    const rotated = await runStep('003', 'API Key Management: rotate API keys', 'payctl keys rotate', (c) =>
      c
        .replace('payctl ', 'payctl --json ')
        .replace('<key_id>', old?.id ?? '')
        .replace('[--overlap-seconds N]', '--overlap-seconds 3600'),
    );
    const fresh = (JSON.parse(rotated.stdout) as { secret: string }).secret;
    expect(fresh).toMatch(/^sk_test_/);
    const newKey = t.api.withKey(fresh);
    expect((await t.merchant.get('/v1/customers')).status).toBe(200);
    expect((await newKey.get('/v1/customers')).status).toBe(200);

    await advanceClock(3601);
    await waitFor('the old key to be refused after its overlap', async () => {
      return (await t.merchant.get('/v1/customers')).status === 401;
    });
    expect((await newKey.get('/v1/customers')).status).toBe(200);
  });
});
