// Concurrency on PostgreSQL (many connections, real row locks): 50 simultaneous create-and-confirm
// requests sharing one Idempotency-Key make one payment and one provider charge, and 50 simultaneous
// confirms of one intent without keys let exactly one through, and captures and cancels racing the
// authorization's webhooks never deadlock. Never charge twice (invariant 2).
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMerchant, startTestService, type TestService } from './support/service.js';
import { waitFor } from './support/wait.js';

let t: TestService;
let merchant: Awaited<ReturnType<typeof createMerchant>>;
beforeAll(async () => {
  t = await startTestService();
  // A merchant of its own, so "exactly one intent for the merchant" counts only this file's work.
  merchant = await createMerchant(t, 'Concurrency merchant');
});
afterAll(async () => {
  // A webhook still in flight at close keeps its connection open past the hook timeout (see the report
  // on service.close()), so let the emulator's deliveries to us finish first.
  await waitFor('the emulator to finish delivering webhooks', async () => {
    const state = await emulatorState<{ webhooks: { queued: number; in_flight: number } }>('none');
    return state.webhooks.queued === 0 && state.webhooks.in_flight === 0;
  });
  await t.close();
});

const CONCURRENCY = 50;

interface Answer {
  status: number;
  replayed: boolean;
  body: { id?: string; status?: string; error?: { type: string; code: string } };
}

async function postForm(path: string, body: string, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`${t.url}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${merchant.secretKey}`,
      'content-type': 'application/x-www-form-urlencoded',
      ...headers,
    },
    body,
  });
  return {
    status: response.status,
    replayed: response.headers.get('idempotent-replayed') === 'true',
    body: (await response.json()) as Answer['body'],
  };
}

async function emulatorState<T>(types: string): Promise<T> {
  const url = t.service.providers.emulators.stripe?.url;
  if (!url) throw new Error('the embedded Stripe emulator is not running');
  return (await (await fetch(`${url}/_emulator/state?types=${types}`)).json()) as T;
}

/** The emulator's charges made for one of our payment intents (through its provider-side intents). */
async function emulatorChargesFor(paymentIntentId: string): Promise<unknown[]> {
  const state = await emulatorState<{
    payment_intents: { id: string; metadata: Record<string, string> }[];
    charges: { id: string; payment_intent: string }[];
  }>('payment_intents,charges');
  const providerIntents = new Set(
    state.payment_intents
      .filter((pi) => pi.metadata.payment_intent_id === paymentIntentId)
      .map((pi) => pi.id),
  );
  return state.charges.filter((charge) => providerIntents.has(charge.payment_intent));
}

async function rows(table: 'payment_intents' | 'payment_attempts' | 'charges') {
  const result = await sql<{ id: string; status: string }>`
    select id, status from ${sql.table(table)} where merchant_id = ${merchant.id}`.execute(
    t.service.database.db,
  );
  return result.rows;
}

describe('concurrent payments on PostgreSQL', () => {
  it('50 concurrent create-and-confirm requests with one Idempotency-Key make one payment and one charge', async () => {
    const key = `concurrent-create-${Date.now()}`;
    const body = 'amount=3100&currency=usd&payment_method=pm_card_visa&confirm=true&metadata[order]=c-1';
    const answers = await Promise.all(
      Array.from({ length: CONCURRENCY }, () =>
        postForm('/v1/payment_intents', body, { 'idempotency-key': key }),
      ),
    );
    const succeeded = answers.filter((a) => a.status === 200);
    const inUse = answers.filter((a) => a.status === 409);
    expect(succeeded.length + inUse.length, JSON.stringify(answers.map((a) => a.body))).toBe(CONCURRENCY);
    expect(succeeded.length).toBeGreaterThanOrEqual(1);
    for (const answer of inUse) {
      expect(answer.body.error).toMatchObject({ type: 'idempotency_error', code: 'idempotency_key_in_use' });
    }
    const ids = new Set(succeeded.map((a) => a.body.id));
    expect(ids.size).toBe(1);
    for (const answer of succeeded) expect(answer.body.status).toBe('succeeded');
    // One execution; every other 200 is a replay of its stored answer.
    expect(succeeded.filter((a) => !a.replayed)).toHaveLength(1);

    const id = [...ids][0] as string;
    expect(await rows('payment_intents')).toEqual([{ id, status: 'succeeded' }]);
    expect(await rows('payment_attempts')).toHaveLength(1);
    expect(await rows('charges')).toHaveLength(1);
    expect(await emulatorChargesFor(id)).toHaveLength(1);

    // Once the dust settles the key replays the one answer.
    const again = await postForm('/v1/payment_intents', body, { 'idempotency-key': key });
    expect(again).toMatchObject({ status: 200, replayed: true, body: { id, status: 'succeeded' } });
  });

  it('50 concurrent confirms of one intent without keys: one succeeds, one attempt, one charge', async () => {
    const created = await postForm(
      '/v1/payment_intents',
      'amount=4700&currency=usd&payment_method=pm_card_visa',
    );
    expect(created.status).toBe(200);
    const id = created.body.id as string;
    const answers = await Promise.all(
      Array.from({ length: CONCURRENCY }, () => postForm(`/v1/payment_intents/${id}/confirm`, '')),
    );
    const succeeded = answers.filter((a) => a.status === 200);
    expect(succeeded, JSON.stringify(answers.map((a) => a.body))).toHaveLength(1);
    expect(succeeded[0]?.body).toMatchObject({ id, status: 'succeeded' });
    // The losers meet the intent already processing (or succeeded): a state error, never a 500.
    for (const answer of answers.filter((a) => a.status !== 200)) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(400);
      expect(answer.body.error).toMatchObject({ code: 'payment_intent_unexpected_state' });
    }
    const attempts = await sql<{ n: number }>`
      select count(*)::int as n from payment_attempts where payment_intent_id = ${id}`.execute(
      t.service.database.db,
    );
    expect(attempts.rows[0]?.n).toBe(1);
    const charges = await sql<{ n: number }>`
      select count(*)::int as n from charges where payment_intent_id = ${id}`.execute(t.service.database.db);
    expect(charges.rows[0]?.n).toBe(1);
    expect(await emulatorChargesFor(id)).toHaveLength(1);
    const after = await postForm(`/v1/payment_intents/${id}/confirm`, '');
    expect(after.body.error).toMatchObject({ code: 'payment_intent_unexpected_state' });
  });

  // The authorization's webhooks (charge.succeeded, payment_intent.amount_capturable_updated) arrive
  // while the merchant captures or cancels: the settlement they start locks the attempt, then the
  // intent; capture and cancel must take the same order or PostgreSQL aborts one as a deadlock (40P01)
  // and the merchant gets a 500 stored under its key.
  it('captures and cancels racing the authorization webhooks never deadlock', async () => {
    const authorize = async () => {
      const created = await postForm(
        '/v1/payment_intents',
        'amount=2200&currency=usd&payment_method=pm_card_visa&capture_method=manual&confirm=true',
      );
      expect(created.body.status).toBe('requires_capture');
      return created.body.id as string;
    };
    const answers: Answer[] = [];
    for (let round = 0; round < 10; round++) {
      const [first, second] = await Promise.all([authorize(), authorize()]);
      answers.push(
        ...(await Promise.all([
          postForm(`/v1/payment_intents/${first}/capture`, '', {
            'idempotency-key': `race-capture-${first}`,
          }),
          postForm(`/v1/payment_intents/${second}/cancel`, ''),
        ])),
      );
    }
    const unexpected = answers.filter((a) => a.status !== 200);
    expect(unexpected, JSON.stringify(unexpected.map((a) => a.body))).toEqual([]);
    expect(answers.map((a) => a.body.status)).toEqual(
      Array.from({ length: 10 }, () => ['succeeded', 'canceled']).flat(),
    );
  });
});
