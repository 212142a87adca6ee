// Provider faults during confirmation (DESIGN section 6): an answer lost after the charge leaves the
// payment `processing` until evidence (a webhook or a GET) settles it, with exactly one charge at the
// provider; a provider slower than our timeout never leads to a second charge on retry; a refused
// connection fails cleanly with nothing charged and the key left free.
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Api } from './support/http.js';
import { metricValue } from './support/jobs.js';
import { startTestService, type TestService } from './support/service.js';
import { waitFor } from './support/wait.js';

let t: TestService;
let emulator: Api;
beforeAll(async () => {
  // The circuit breaker is kept out of this file's way: its 429s and lost answers would otherwise open
  // Stripe's circuit (half the calls failing within 30 s of real time) and the later tests would meet
  // PayPal and a refused read-back instead of the fault they set up. test/provider-resilience tests it.
  t = await startTestService({ env: { STRIPE_TIMEOUT_MS: '800', CIRCUIT_BREAKER_MIN_CALLS: '1000' } });
  emulator = new Api(t.service.providers.emulators.stripe?.url as string);
});
afterAll(async () => {
  await t.close();
});
afterEach(async () => {
  await emulator.delete('/_emulator/faults');
});

type Intent = { id: string; status: string; amount_received: number; latest_charge: string | null };

async function faults(body: Record<string, unknown>) {
  const reply = await emulator.post('/_emulator/faults', body, { as: 'json' });
  expect(reply.status, reply.text).toBe(200);
}

async function attemptsOf(intentId: string) {
  return t.service.database.db
    .selectFrom('payment_attempts')
    .selectAll()
    .where('payment_intent_id', '=', intentId)
    .execute();
}

/** Charges the emulator holds for our intent's provider objects. */
async function providerCharges(intentId: string) {
  const providerIds = new Set((await attemptsOf(intentId)).map((a) => a.provider_payment_id));
  const state = await emulator.get<{ charges: { payment_intent: string; status: string }[] }>(
    '/_emulator/state',
    {
      types: 'charges',
    },
  );
  return state.body.charges.filter((charge) => providerIds.has(charge.payment_intent));
}

async function advanceClock(seconds: number) {
  const moved = await t.api.post('/_test/clock', { advance_seconds: seconds });
  expect(moved.status, moved.text).toBe(200);
}

function pay(key?: string, extra: Record<string, unknown> = {}) {
  return t.merchant.post<Intent>(
    '/v1/payment_intents',
    { amount: 1200, currency: 'usd', payment_method: 'pm_card_visa', confirm: 'true', ...extra },
    key ? { headers: { 'Idempotency-Key': key } } : {},
  );
}

/**
 * A payment the provider charged but whose answer was lost, with its webhooks sent nowhere and every
 * read-back refused (429) from then on: it stays processing until the test clears the faults. The
 * caller restores the webhook target with `t.service.providers.listening(t.url)`.
 */
async function chargedButProcessing() {
  await emulator.post(
    '/_emulator/webhook_target',
    { url: 'http://127.0.0.1:9/nowhere', secret: 'whsec_x' },
    { as: 'json' },
  );
  await faults({ mode: 'drop_after_charge' });
  const answer = await pay();
  expect(answer.body.status).toBe('processing');
  await faults({ error_rate: 1, status: 429 });
  return answer;
}

describe('an answer lost after the charge', () => {
  it.each(['drop_after_charge', 'error_after_charge'])(
    '%s: processing, then the provider webhook settles it; one charge',
    async (mode) => {
      await faults({ mode });
      const answer = await pay();
      expect(answer.status, answer.text).toBe(200);
      // The emulator's webhook may settle the attempt before the lost answer is even noticed.
      expect(['processing', 'succeeded']).toContain(answer.body.status);
      await emulator.delete('/_emulator/faults');
      // The emulator's payment_intent.succeeded webhook reaches /webhooks/stripe, which reads the intent back.
      const settled = await waitFor('the webhook to settle the payment', async () => {
        const reply = await t.merchant.get<Intent>(`/v1/payment_intents/${answer.body.id}`);
        return reply.body.status === 'succeeded' ? reply.body : undefined;
      });
      expect(settled.amount_received).toBe(1200);
      expect(await providerCharges(answer.body.id)).toHaveLength(1);
      const charges = await t.merchant.get<{ data: unknown[] }>('/v1/charges', {
        payment_intent: answer.body.id,
      });
      expect(charges.body.data).toHaveLength(1);
    },
  );

  it("a provider that refuses the settlement's GET (429) is no evidence: the charged payment stays processing", async () => {
    // Regression: recovery applied the refused read's no_charge, failing an attempt that had charged.
    // A 429 proves the GET was not served, so it reads as no_charge at the connector's edge.
    try {
      const answer = await chargedButProcessing();
      await advanceClock(900);
      const refused = await t.service.services.paymentRecovery.runDue();
      expect(refused.checked).toBeGreaterThanOrEqual(1);
      const during = await t.merchant.get<Intent>(`/v1/payment_intents/${answer.body.id}`);
      expect(during.body.status).toBe('processing');
      const [attempt] = await attemptsOf(answer.body.id);
      expect(attempt?.status).toBe('pending');
      await emulator.delete('/_emulator/faults');
      await advanceClock(3600);
      await t.service.services.paymentRecovery.runDue();
      const after = await t.merchant.get<Intent>(`/v1/payment_intents/${answer.body.id}`);
      expect(after.body.status).toBe('succeeded');
      expect(await providerCharges(answer.body.id)).toHaveLength(1);
    } finally {
      t.service.providers.listening(t.url);
    }
  });

  it('counts a payment still processing after 30 minutes in payments_stuck_pending, until it settles', async () => {
    const stuck = async () => {
      const reply = await t.api.get('/metrics');
      expect(reply.status).toBe(200);
      const value = metricValue(reply.text, 'payments_stuck_pending');
      expect(value, 'payments_stuck_pending on /metrics').toBeTypeOf('number');
      return value as number;
    };
    try {
      const answer = await chargedButProcessing();
      await advanceClock(29 * 60);
      await t.service.services.paymentRecovery.runDue();
      const before = await stuck();
      await advanceClock(2 * 60);
      expect(await stuck()).toBe(before + 1);
      await emulator.delete('/_emulator/faults');
      await advanceClock(3600);
      await t.service.services.paymentRecovery.runDue();
      const after = await t.merchant.get<Intent>(`/v1/payment_intents/${answer.body.id}`);
      expect(after.body.status).toBe('succeeded');
      expect(await stuck()).toBe(before);
    } finally {
      t.service.providers.listening(t.url);
    }
  });

  it('without webhooks, the settlement job settles it by a GET', async () => {
    const webhooks = t.service.providers.emulators.stripe;
    await emulator.post(
      '/_emulator/webhook_target',
      { url: 'http://127.0.0.1:9/nowhere', secret: 'whsec_x' },
      { as: 'json' },
    );
    try {
      await faults({ mode: 'drop_after_charge' });
      const answer = await pay();
      expect(answer.body.status).toBe('processing');
      await emulator.delete('/_emulator/faults');
      await advanceClock(60);
      const run = await t.service.services.paymentRecovery.runDue();
      expect(run.settled).toBeGreaterThanOrEqual(1);
      const after = await t.merchant.get<Intent>(`/v1/payment_intents/${answer.body.id}`);
      expect(after.body.status).toBe('succeeded');
      expect(await providerCharges(answer.body.id)).toHaveLength(1);
    } finally {
      t.service.providers.listening(t.url);
      expect(webhooks).toBeDefined();
    }
  });
});

describe('a provider slower than our timeout', () => {
  it('answers processing; a retry with the same key replays, a new key is refused; one charge in the end', async () => {
    await faults({ latency_ms: 1500 });
    const first = await pay('slow-1');
    expect(first.status, first.text).toBe(200);
    expect(first.body.status).toBe('processing');
    const replay = await pay('slow-1');
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.id).toBe(first.body.id);
    const confirmAgain = await t.merchant.post<{ error: { code: string } }>(
      `/v1/payment_intents/${first.body.id}/confirm`,
      {},
    );
    expect(confirmAgain.status).toBe(400);
    expect(confirmAgain.body.error.code).toBe('payment_intent_unexpected_state');
    await emulator.delete('/_emulator/faults');
    // The slow create is still running at the provider (its key is in use) until its latency has passed.
    const [attempt] = await attemptsOf(first.body.id);
    await waitFor('the slow create to finish at the provider', async () => {
      const state = await emulator.get<{ payment_intents: { metadata: Record<string, string> }[] }>(
        '/_emulator/state',
        { types: 'payment_intents' },
      );
      return state.body.payment_intents.some((pi) => pi.metadata.payment_attempt_id === attempt?.id);
    });
    // Past the in-flight window the settlement job finishes the attempt from the provider's record.
    await advanceClock(200);
    await waitFor('the attempt to settle', async () => {
      await t.service.services.paymentRecovery.runDue();
      const reply = await t.merchant.get<Intent>(`/v1/payment_intents/${first.body.id}`);
      return reply.body.status === 'succeeded';
    });
    expect(await providerCharges(first.body.id)).toHaveLength(1);
  });
});

describe('a provider that cannot be reached', () => {
  it('fails cleanly: 503, nothing charged, the intent confirmable again', async () => {
    const down = await startTestService({
      env: {
        STRIPE_API_BASE: 'http://127.0.0.1:9',
        STRIPE_SECRET_KEY: 'sk_test_unreachable',
        EMULATORS: 'off',
      },
    });
    try {
      const answer = await down.merchant.post<{
        error: { code: string; type: string; payment_intent?: Intent };
      }>(
        '/v1/payment_intents',
        { amount: 1200, currency: 'usd', payment_method: 'pm_card_visa', confirm: 'true' },
        { headers: { 'Idempotency-Key': 'refused-1' } },
      );
      expect(answer.status, answer.text).toBe(503);
      expect(answer.body.error).toMatchObject({ type: 'api_error', code: 'provider_unavailable' });
      expect(answer.text).not.toMatch(/\n\s+at /);
      const intents = await sql<{ status: string }>`select status from payment_intents`.execute(
        down.service.database.db,
      );
      expect(intents.rows.map((r) => r.status)).toEqual(['requires_payment_method']);
      const charges = await sql<{ n: number }>`select count(*)::int as n from charges`.execute(
        down.service.database.db,
      );
      expect(charges.rows[0]?.n).toBe(0);
      // Create-with-confirm keeps its answer (a retry must not create a second intent)...
      const body = { amount: 1200, currency: 'usd', payment_method: 'pm_card_visa', confirm: 'true' };
      const replayed = await down.merchant.post('/v1/payment_intents', body, {
        headers: { 'Idempotency-Key': 'refused-1' },
      });
      expect(replayed.status).toBe(503);
      expect(replayed.headers.get('idempotent-replayed')).toBe('true');
      // ...while a confirm of the existing intent leaves its key free for a retry.
      const intentId = answer.body.error.payment_intent?.id as string;
      for (let i = 0; i < 2; i++) {
        const confirm = await down.merchant.post(
          `/v1/payment_intents/${intentId}/confirm`,
          {},
          {
            headers: { 'Idempotency-Key': 'refused-2' },
          },
        );
        expect(confirm.status).toBe(503);
        expect(confirm.headers.get('idempotent-replayed')).toBeNull();
      }
      const attempts = await sql<{ status: string }>`select status from payment_attempts`.execute(
        down.service.database.db,
      );
      expect(attempts.rows.map((r) => r.status)).toEqual(['failed', 'failed', 'failed']);
    } finally {
      await down.close();
    }
  });
});
