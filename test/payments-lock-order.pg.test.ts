// Regression: a capture or cancel racing the settlement of the same attempt (the provider's webhook,
// the return hop, the settlement job) must not deadlock. Both now lock the attempt before the intent.
// PostgreSQL only: row locks under real concurrency.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestService, type TestService } from './support/service.js';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t.close();
});

type Intent = { id: string; status: string; amount_received: number };

it('captures and cancels right after authorization, while the webhooks arrive, without a deadlock', async () => {
  const rounds = await Promise.all(
    Array.from({ length: 12 }, async (_, i) => {
      const authorized = await t.merchant.post<Intent>('/v1/payment_intents', {
        amount: 1000 + i,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        capture_method: 'manual',
        confirm: 'true',
      });
      expect(authorized.status, authorized.text).toBe(200);
      const action = i % 2 === 0 ? 'capture' : 'cancel';
      // Settle the same attempt from the provider at the same moment, as a webhook would.
      const [answer] = await Promise.all([
        t.merchant.post<Intent>(`/v1/payment_intents/${authorized.body.id}/${action}`, {}),
        t.service.services.paymentRecovery.settleFromProvider(
          (await t.service.database.db
            .selectFrom('payment_attempts')
            .selectAll()
            .where('payment_intent_id', '=', authorized.body.id)
            .executeTakeFirstOrThrow()) as never,
        ),
      ]);
      return { action, answer };
    }),
  );
  for (const { action, answer } of rounds) {
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.status).toBe(action === 'capture' ? 'succeeded' : 'canceled');
  }
});
