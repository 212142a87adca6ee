// Concurrent refunds of one charge on PostgreSQL: the charge row is locked while each refund reserves
// its amount, so twenty requests for 1000 on a 5000 charge refund exactly 5000, here and at the provider.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../src/modules/ledger/ledger.verify.js';
import { startTestService, type TestService } from './support/service.js';
import { waitFor } from './support/wait.js';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t.close();
});

describe('concurrent refunds (PostgreSQL)', () => {
  it('never refund more than was captured: 5 of 20 succeed, the rest are refused', async () => {
    const intent = await t.merchant.post<{ id: string; latest_charge: string }>('/v1/payment_intents', {
      amount: 5000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: 'true',
    });
    expect(intent.status, intent.text).toBe(200);

    const replies = await Promise.all(
      Array.from({ length: 20 }, () =>
        t.merchant.post<{ id: string; status: string; error?: { code: string } }>('/v1/refunds', {
          payment_intent: intent.body.id,
          amount: 1000,
        }),
      ),
    );
    const succeeded = replies.filter((reply) => reply.status === 200);
    const refused = replies.filter((reply) => reply.status === 400);
    expect(succeeded).toHaveLength(5);
    expect(refused).toHaveLength(15);
    expect(succeeded.every((reply) => reply.body.status === 'succeeded')).toBe(true);
    for (const reply of refused) {
      expect(['charge_already_refunded', 'amount_too_large']).toContain(reply.body.error?.code);
    }

    const charge = await t.merchant.get<{ amount_refunded: number; refunds: { data: unknown[] } }>(
      `/v1/charges/${intent.body.latest_charge}`,
    );
    expect(charge.body.amount_refunded).toBe(5000);
    expect(charge.body.refunds.data).toHaveLength(5);

    const attempt = await t.service.database.db
      .selectFrom('payment_attempts')
      .select('provider_payment_id')
      .where('payment_intent_id', '=', intent.body.id)
      .executeTakeFirstOrThrow();
    type State = {
      refunds: { amount: number; status: string; payment_intent: string }[];
      webhooks: { queued: number; in_flight: number };
    };
    // The provider's webhooks about these refunds are processed too (and change nothing), before the end:
    // a webhook still in flight when the service closes holds its keep-alive connection open for ~70 s.
    const state = await waitFor('the emulator to deliver its webhooks', async () => {
      const current = (await fetch(
        `${t.service.providers.emulators.stripe?.url}/_emulator/state?types=refunds`,
      ).then((r) => r.json())) as State;
      return current.webhooks.queued === 0 && current.webhooks.in_flight === 0 ? current : undefined;
    });
    const atProvider = state.refunds.filter(
      (refund) => refund.payment_intent === attempt.provider_payment_id,
    );
    expect(atProvider).toHaveLength(5);
    expect(atProvider.reduce((sum, refund) => sum + refund.amount, 0)).toBe(5000);

    expect(
      (await t.merchant.get<{ amount_refunded: number }>(`/v1/charges/${intent.body.latest_charge}`)).body
        .amount_refunded,
    ).toBe(5000);
    const report = await verifyLedger(t.service.database.db);
    expect(report.ok).toBe(true);
  });
});
