// An operator's refund under an Idempotency-Key (POST /admin/refunds, what `payctl refund --url` and the
// dashboard send): a retry of the same request refunds once and replays the first answer, a reused key
// with other parameters is refused, two at once still refund once, and keys are per operator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './support/service.js';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t.close();
});

type Intent = { id: string; status: string; latest_charge: string };
type Refund = { id: string; amount: number; status: string };

async function paid(amount = 2000) {
  const reply = await t.merchant.post<Intent>('/v1/payment_intents', {
    amount,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    confirm: 'true',
  });
  expect(reply.body.status, reply.text).toBe('succeeded');
  return reply.body;
}

const refunded = async (intent: Intent) =>
  (await t.merchant.get<{ amount_refunded: number }>(`/v1/charges/${intent.latest_charge}`)).body
    .amount_refunded;

const refund = (key: string, body: Record<string, unknown>) =>
  t.admin.post<Refund & { error?: { type: string; code?: string } }>('/admin/refunds', body, {
    headers: { 'idempotency-key': key },
  });

describe('operator refunds with an Idempotency-Key', () => {
  it('refunds once when the same request is sent again, replaying the first answer', async () => {
    const intent = await paid();
    const first = await refund('op-refund-1', { payment_intent: intent.id, amount: 500 });
    expect(first.status, first.text).toBe(200);
    const again = await refund('op-refund-1', { payment_intent: intent.id, amount: 500 });
    expect(again.status, again.text).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    expect(await refunded(intent)).toBe(500);
  });

  it('refuses the key reused with other parameters, refunding nothing more', async () => {
    const intent = await paid();
    expect((await refund('op-refund-2', { payment_intent: intent.id, amount: 300 })).status).toBe(200);
    const reused = await refund('op-refund-2', { payment_intent: intent.id, amount: 700 });
    expect(reused.status, reused.text).toBe(400);
    expect(reused.body.error?.type).toBe('idempotency_error');
    expect(await refunded(intent)).toBe(300);
  });

  it('refunds once when two requests with one key arrive together', async () => {
    const intent = await paid();
    const replies = await Promise.all(
      [1, 2, 3].map(() => refund('op-refund-3', { payment_intent: intent.id, amount: 400 })),
    );
    const succeeded = replies.filter((reply) => reply.status === 200);
    expect(succeeded.length, replies.map((r) => r.text).join('\n')).toBeGreaterThanOrEqual(1);
    expect(new Set(succeeded.map((reply) => reply.body.id)).size).toBe(1);
    for (const reply of replies.filter((r) => r.status !== 200)) expect(reply.status, reply.text).toBe(409);
    expect(await refunded(intent)).toBe(400);
  });

  it('keeps each operator’s keys apart, and refunds without a key as before', async () => {
    const intent = await paid();
    const mine = await refund('op-refund-4', { payment_intent: intent.id, amount: 100 });
    expect(mine.status, mine.text).toBe(200);
    // The same admin through a session: one operator, one key, one refund.
    const session = await t.adminSession();
    const sameOperator = await session.post<Refund>(
      '/admin/refunds',
      { payment_intent: intent.id, amount: 100 },
      { headers: { 'idempotency-key': 'op-refund-4' } },
    );
    expect(sameOperator.body.id).toBe(mine.body.id);
    // Another operator's key of the same name is theirs.
    const email = 'refunder@example.test';
    const password = 'twelve chars or more';
    const created = await t.admin.post('/admin/operators', { email, password, role: 'payment-operator' });
    expect(created.status, created.text).toBe(200);
    const login = await t.api.post<{ token: string }>('/admin/login', { email, password });
    expect(login.status, login.text).toBe(200);
    const other = await t.api
      .withKey(login.body.token)
      .post<Refund>(
        '/admin/refunds',
        { payment_intent: intent.id, amount: 100 },
        { headers: { 'idempotency-key': 'op-refund-4' } },
      );
    expect(other.status, other.text).toBe(200);
    expect(other.body.id).not.toBe(mine.body.id);
    const plain = await t.admin.post<Refund>('/admin/refunds', { payment_intent: intent.id, amount: 100 });
    expect(plain.status, plain.text).toBe(200);
    expect(await refunded(intent)).toBe(300);
  });
});
