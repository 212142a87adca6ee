// Regression tests for bugs the model test and the card-data scan found: a stale 3DS page approved
// after a re-confirmation, card numbers echoed from parameter names and ids, a mistyped parameter
// reported as missing, and a refused create-with-confirm leaving an intent behind.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api } from './support/http.js';
import { startTestService, type TestService } from './support/service.js';
import { completeThreeDSecure } from './support/three-d-secure.js';
import { waitFor } from './support/wait.js';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t.close();
});

type Intent = {
  id: string;
  status: string;
  amount_received: number;
  next_action: { redirect_to_url: { url: string } } | null;
};
type ErrorBody = { error: { code: string; param?: string; message: string } };

async function count(table: 'payment_intents' | 'charges') {
  const rows = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(
    t.service.database.db,
  );
  return rows.rows[0]?.n ?? 0;
}

describe('a re-confirmation while a 3DS page is open', () => {
  it.each(['pm_card_authenticationRequired', 'pm_card_visa'])(
    'cancels the old provider payment, so approving the stale page charges nothing (re-confirm with %s)',
    async (second) => {
      const created = await t.merchant.post<Intent>('/v1/payment_intents', {
        amount: 1000,
        currency: 'usd',
        payment_method: 'pm_card_authenticationRequired',
        confirm: 'true',
        return_url: 'https://shop.example/back',
      });
      expect(created.body.status).toBe('requires_action');
      const stale = created.body.next_action?.redirect_to_url.url as string;
      const again = await t.merchant.post<Intent>(`/v1/payment_intents/${created.body.id}/confirm`, {
        payment_method: second,
      });
      expect(again.status, again.text).toBe(200);
      // The first attempt's provider payment was canceled before the new attempt started.
      const attempts = await t.service.database.db
        .selectFrom('payment_attempts')
        .select(['status', 'created_at'])
        .where('payment_intent_id', '=', created.body.id)
        .orderBy('created_at')
        .execute();
      expect(attempts[0]?.status).toBe('canceled');
      // Approving the stale page now charges nothing (the emulator refuses a canceled payment).
      await completeThreeDSecure(stale, 'approve');
      if (again.body.status === 'requires_action') {
        const fresh = await completeThreeDSecure(
          again.body.next_action?.redirect_to_url.url as string,
          'approve',
        );
        expect(fresh.merchantUrl?.searchParams.get('redirect_status')).toBe('succeeded');
      }
      const final = await waitFor('the intent to succeed', async () => {
        const reply = await t.merchant.get<Intent>(`/v1/payment_intents/${created.body.id}`);
        return reply.body.status === 'succeeded' ? reply.body : undefined;
      });
      expect(final.amount_received).toBe(1000);
      const charges = await t.merchant.get<{ data: { status: string; captured: boolean }[] }>('/v1/charges', {
        payment_intent: created.body.id,
      });
      expect(charges.body.data.filter((c) => c.captured)).toHaveLength(1);
    },
  );
});

describe('card numbers sent where they do not belong', () => {
  it('are masked when a parameter name is a card number', async () => {
    for (const name of ['4000000000000002', '4000 0000 0000 0002']) {
      const reply = await t.merchant.post<ErrorBody>('/v1/payment_methods', { type: 'card', [name]: 'x' });
      expect(reply.status).toBe(400);
      expect(reply.body.error.code).toBe('parameter_unknown');
      expect(reply.text.replace(/[ -]/g, '')).not.toContain('4000000000000002');
    }
  });

  it('are masked, also in stored idempotent answers, when sent as an id', async () => {
    const before = await count('payment_intents');
    const reply = await t.merchant.post<ErrorBody>(
      '/v1/payment_intents',
      { amount: 1000, currency: 'usd', payment_method: '4000000000009995' },
      { headers: { 'Idempotency-Key': 'pan-as-id' } },
    );
    expect(reply.status).toBe(404);
    expect(reply.text).not.toContain('4000000000009995');
    const lookup = await t.merchant.get('/v1/payment_methods/4000000000009995');
    expect(lookup.status).toBe(404);
    expect(lookup.text).not.toContain('4000000000009995');
    const stored = await sql<{ body: unknown }>`select response_body as body from idempotency_keys`.execute(
      t.service.database.db,
    );
    expect(JSON.stringify(stored.rows)).not.toContain('4000000000009995');
    expect(await count('payment_intents')).toBe(before);
  });
});

describe('validation', () => {
  it('answers a mistyped parameter as invalid, not missing', async () => {
    const reply = await t.merchant.post<ErrorBody>(
      '/v1/payment_intents',
      { amount: 1000, currency: 5 },
      { as: 'json' },
    );
    expect(reply.status).toBe(400);
    expect(reply.body.error).toMatchObject({ code: 'parameter_invalid', param: 'currency' });
  });

  it('leaves no intent behind when create-with-confirm is refused for a missing return_url', async () => {
    const before = await count('payment_intents');
    const reply = await t.merchant.post<ErrorBody>('/v1/payment_intents', {
      amount: 1000,
      currency: 'usd',
      payment_method: 'pm_card_authenticationRequired',
      confirm: 'true',
    });
    expect(reply.status).toBe(400);
    expect(reply.body.error.param).toBe('return_url');
    expect(await count('payment_intents')).toBe(before);
  });
});

describe('masking', () => {
  it('masks Luhn-valid card numbers in error text and leaves other long numbers readable', async () => {
    const { maskCardNumbers } = await import('../src/pan.js');
    expect(maskCardNumbers("No such payment_method: '4000000000009995'")).toBe(
      "No such payment_method: '400000******9995'",
    );
    expect(maskCardNumbers('4242 4242 4242 4242')).toBe('424242******4242');
    expect(maskCardNumbers('must be at most 1000000000000')).toBe('must be at most 1000000000000');
  });
});

describe('two recoveries of one attempt at once (the settlement job on two replicas)', () => {
  it('the later one never undoes the settlement the earlier one wrote', async () => {
    const emulator = new Api(t.service.providers.emulators.stripe?.url as string);
    const faults = (body: Record<string, unknown>) =>
      emulator.post('/_emulator/faults', body, { as: 'json' });
    // The provider object's creation fails before anything is done: the attempt stays `started`.
    await faults({ error_rate: 1, status: 500 });
    const answer = await t.merchant.post<Intent>('/v1/payment_intents', {
      amount: 1700,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: 'true',
    });
    expect(answer.body.status).toBe('processing');
    const db = t.service.database.db;
    const stale = await db
      .selectFrom('payment_attempts')
      .selectAll()
      .where('payment_intent_id', '=', answer.body.id)
      .executeTakeFirstOrThrow();
    expect(stale.phase).toBe('started');
    await t.api.post('/_test/clock', { advance_seconds: 600 });
    // Slow provider: the second recovery (holding the same stale row) replays the creation after the
    // first has already confirmed and settled the attempt.
    await faults({ latency_ms: 150 });
    try {
      const recovery = t.service.services.paymentRecovery;
      const first = recovery.recover(stale);
      await new Promise((resolve) => setTimeout(resolve, 400));
      const second = recovery.recover(stale);
      await Promise.all([first, second]);
    } finally {
      await emulator.delete('/_emulator/faults');
    }
    const attempt = await db
      .selectFrom('payment_attempts')
      .selectAll()
      .where('id', '=', stale.id)
      .executeTakeFirstOrThrow();
    expect([attempt.status, attempt.phase]).toEqual(['succeeded', 'settled']);
    const intent = await t.merchant.get<Intent>(`/v1/payment_intents/${answer.body.id}`);
    expect(intent.body.status).toBe('succeeded');
    expect(await count('charges')).toBeGreaterThan(0);
  });
});
