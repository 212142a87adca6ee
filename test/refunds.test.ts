import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../src/modules/ledger/ledger.verify.js';
import type { ProviderEvent } from '../src/providers/provider.js';
import { EMBEDDED_STRIPE_KEY } from '../src/providers/registry.js';
import type { Api } from './support/http.js';
import { createMerchant, startTestService, type TestService } from './support/service.js';
import { expectSameShape, stripeFixtures } from './support/stripe-shape.js';
import { waitFor } from './support/wait.js';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  // A provider webhook still in flight when the service closes keeps its connection open for ~70 s.
  await waitFor('the emulator to deliver its webhooks', async () => {
    const state = (await fetch(
      `${t.service.providers.emulators.stripe?.url}/_emulator/state?types=none`,
    ).then((r) => r.json())) as { webhooks: { queued: number; in_flight: number } };
    return state.webhooks.queued === 0 && state.webhooks.in_flight === 0;
  }).catch(() => {});
  await t.close();
});

type Refund = Record<string, unknown> & {
  id: string;
  amount: number;
  status: string;
  charge: string;
  payment_intent: string;
  balance_transaction: string | null;
  failure_balance_transaction: string | null;
  failure_reason: string | null;
  metadata: Record<string, string>;
};
type Charge = Record<string, unknown> & {
  id: string;
  amount_refunded: number;
  refunded: boolean;
  disputed: boolean;
  refunds: { data: Refund[] };
};
type Intent = { id: string; status: string; latest_charge: string | null };
type ErrorBody = { error: { type: string; code: string; param?: string; message: string } };
type List<T> = { object: 'list'; data: T[]; has_more: boolean };
type Balance = { available: { amount: number; currency: string }[]; pending: { amount: number }[] };
type BalanceTransaction = { id: string; amount: number; type: string; source: string };
type Event = { id: string; type: string; data: { object: { id: string; status?: string } } };

async function pay(api: Api, amount: number, paymentMethod = 'pm_card_visa', extra = {}) {
  const created = await api.post<Intent>('/v1/payment_intents', {
    amount,
    currency: 'usd',
    payment_method: paymentMethod,
    confirm: 'true',
    ...extra,
  });
  if (created.status !== 200) throw new Error(`payment failed: ${created.text}`);
  return created.body;
}

async function chargeOf(api: Api, intent: Intent) {
  return (await api.get<Charge>(`/v1/charges/${intent.latest_charge}`)).body;
}

async function available(api: Api): Promise<number> {
  const balance = await api.get<Balance>('/v1/balance');
  return balance.body.available.find((funds) => funds.currency === 'usd')?.amount ?? 0;
}

async function eventsAbout(id: string, type: string): Promise<Event[]> {
  const list = await t.merchant.get<List<Event>>('/v1/events', { type, limit: 100 });
  return list.body.data.filter((event) => event.data.object.id === id);
}

async function ledgerClean() {
  const report = await verifyLedger(t.service.database.db);
  expect(report.checks.filter((check) => check.violations > 0)).toEqual([]);
  expect(report.ok).toBe(true);
}

describe('refunds', () => {
  it('refunds part of a payment, then the rest, and the charge shows both', async () => {
    const intent = await pay(t.merchant, 5000);
    const partial = await t.merchant.post<Refund>('/v1/refunds', {
      payment_intent: intent.id,
      amount: 2000,
      reason: 'requested_by_customer',
      metadata: { ticket: 'T-1' },
    });
    expect(partial.status, partial.text).toBe(200);
    expect(partial.body).toMatchObject({
      object: 'refund',
      amount: 2000,
      status: 'succeeded',
      currency: 'usd',
      payment_intent: intent.id,
      charge: intent.latest_charge,
      reason: 'requested_by_customer',
      metadata: { ticket: 'T-1' },
    });
    expect(partial.body.id).toMatch(/^re_/);
    expect(partial.body.balance_transaction).toMatch(/^txn_/);
    expect((await chargeOf(t.merchant, intent)).amount_refunded).toBe(2000);

    const rest = await t.merchant.post<Refund>('/v1/refunds', { charge: intent.latest_charge });
    expect(rest.status, rest.text).toBe(200);
    expect(rest.body).toMatchObject({ amount: 3000, status: 'succeeded' });
    const charge = await chargeOf(t.merchant, intent);
    expect(charge).toMatchObject({ amount_refunded: 5000, refunded: true });
    expect(charge.refunds.data.map((r) => r.id).sort()).toEqual([partial.body.id, rest.body.id].sort());

    const fetched = await t.merchant.get<Refund>(`/v1/refunds/${partial.body.id}`, {
      expand: ['charge', 'payment_intent', 'balance_transaction'],
    });
    expect(fetched.status, fetched.text).toBe(200);
    expect(fetched.body.charge).toMatchObject({ id: intent.latest_charge, object: 'charge' });
    expect(fetched.body.payment_intent).toMatchObject({ id: intent.id, object: 'payment_intent' });
    expect(fetched.body.balance_transaction).toMatchObject({ object: 'balance_transaction', amount: -2000 });

    const list = await t.merchant.get<List<Refund>>('/v1/refunds', { payment_intent: intent.id });
    expect(list.body.data.map((r) => r.id)).toEqual([rest.body.id, partial.body.id]);
    const byCharge = await t.merchant.get<List<Refund>>('/v1/refunds', {
      charge: intent.latest_charge,
      limit: 1,
    });
    expect(byCharge.body).toMatchObject({ object: 'list', has_more: true });
    const next = await t.merchant.get<List<Refund>>('/v1/refunds', {
      charge: intent.latest_charge,
      limit: 1,
      starting_after: byCharge.body.data[0]?.id,
    });
    expect(next.body.data.map((r) => r.id)).toEqual([partial.body.id]);
    expect(next.body.has_more).toBe(false);

    expect(await eventsAbout(partial.body.id, 'refund.created')).toHaveLength(1);
    const refunded = await eventsAbout(intent.latest_charge as string, 'charge.refunded');
    expect(refunded).toHaveLength(2);
  });

  it('takes several partial refunds until nothing remains', async () => {
    const intent = await pay(t.merchant, 3000);
    for (const amount of [1000, 500, 1500]) {
      const refund = await t.merchant.post<Refund>('/v1/refunds', { payment_intent: intent.id, amount });
      expect(refund.status, refund.text).toBe(200);
    }
    const charge = await chargeOf(t.merchant, intent);
    expect(charge.amount_refunded).toBe(3000);
    const more = await t.merchant.post<ErrorBody>('/v1/refunds', { payment_intent: intent.id, amount: 1 });
    expect(more.status).toBe(400);
    expect(more.body.error).toMatchObject({ code: 'charge_already_refunded', param: 'payment_intent' });
  });

  it('refuses more than remains with amount_too_large and changes nothing', async () => {
    const intent = await pay(t.merchant, 2000);
    await t.merchant.post('/v1/refunds', { payment_intent: intent.id, amount: 1500 });
    const before = await available(t.merchant);
    const over = await t.merchant.post<ErrorBody>('/v1/refunds', { payment_intent: intent.id, amount: 501 });
    expect(over.status).toBe(400);
    expect(over.body.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'amount_too_large',
      param: 'amount',
    });
    const charge = await chargeOf(t.merchant, intent);
    expect(charge.amount_refunded).toBe(1500);
    expect(charge.refunds.data).toHaveLength(1);
    expect(await available(t.merchant)).toBe(before);
    const list = await t.merchant.get<List<Refund>>('/v1/refunds', { payment_intent: intent.id });
    expect(list.body.data).toHaveLength(1);
  });

  it('refuses bad input naming the parameter', async () => {
    const intent = await pay(t.merchant, 1000);
    const neither = await t.merchant.post<ErrorBody>('/v1/refunds', { amount: 100 });
    expect(neither.status).toBe(400);
    expect(neither.body.error).toMatchObject({ code: 'parameter_missing', param: 'payment_intent' });
    const both = await t.merchant.post<ErrorBody>('/v1/refunds', {
      payment_intent: intent.id,
      charge: intent.latest_charge,
    });
    expect(both.status).toBe(400);
    expect(both.body.error.param).toBe('charge');
    const zero = await t.merchant.post<ErrorBody>('/v1/refunds', { payment_intent: intent.id, amount: 0 });
    expect(zero.status).toBe(400);
    expect(zero.body.error.param).toBe('amount');
    const reason = await t.merchant.post<ErrorBody>('/v1/refunds', {
      payment_intent: intent.id,
      reason: 'changed_mind',
    });
    expect(reason.status).toBe(400);
    expect(reason.body.error.param).toBe('reason');
    const unknown = await t.merchant.post<ErrorBody>('/v1/refunds', { payment_intent: intent.id, foo: 'x' });
    expect(unknown.status).toBe(400);
    expect((await chargeOf(t.merchant, intent)).amount_refunded).toBe(0);
  });

  it('refuses to refund declined, canceled and uncaptured payments', async () => {
    const declined = await t.merchant.post<ErrorBody & { error: { payment_intent: Intent } }>(
      '/v1/payment_intents',
      { amount: 1000, currency: 'usd', payment_method: 'pm_card_chargeDeclined', confirm: 'true' },
    );
    expect(declined.status).toBe(402);
    const declinedIntent = declined.body.error.payment_intent;
    const ofDeclined = await t.merchant.post<ErrorBody>('/v1/refunds', { payment_intent: declinedIntent.id });
    expect(ofDeclined.status).toBe(400);
    expect(ofDeclined.body.error).toMatchObject({ code: 'charge_not_captured', param: 'payment_intent' });
    const declinedCharge = await t.merchant.post<ErrorBody>('/v1/refunds', {
      charge: declinedIntent.latest_charge,
    });
    expect(declinedCharge.status).toBe(400);
    expect(declinedCharge.body.error).toMatchObject({ code: 'charge_not_captured', param: 'charge' });

    const authorized = await pay(t.merchant, 1000, 'pm_card_visa', { capture_method: 'manual' });
    expect(authorized.status).toBe('requires_capture');
    const ofAuthorized = await t.merchant.post<ErrorBody>('/v1/refunds', { payment_intent: authorized.id });
    expect(ofAuthorized.status).toBe(400);
    expect(ofAuthorized.body.error).toMatchObject({ code: 'charge_not_captured', param: 'payment_intent' });

    const canceled = await t.merchant.post<Intent>(`/v1/payment_intents/${authorized.id}/cancel`, {});
    expect(canceled.body.status).toBe('canceled');
    const ofCanceled = await t.merchant.post<ErrorBody>('/v1/refunds', { payment_intent: authorized.id });
    expect(ofCanceled.status).toBe(400);
    expect(ofCanceled.body.error.code).toBe('charge_not_captured');

    const unconfirmed = await t.merchant.post<Intent>('/v1/payment_intents', {
      amount: 900,
      currency: 'usd',
    });
    await t.merchant.post(`/v1/payment_intents/${unconfirmed.body.id}/cancel`, {});
    const ofUnconfirmed = await t.merchant.post<ErrorBody>('/v1/refunds', {
      payment_intent: unconfirmed.body.id,
    });
    expect(ofUnconfirmed.status).toBe(400);
    expect(ofUnconfirmed.body.error).toMatchObject({ code: 'charge_not_captured', param: 'payment_intent' });
  });

  it("answers 404 for another merchant's or the other mode's payments and refunds", async () => {
    const intent = await pay(t.merchant, 1200);
    const refund = await t.merchant.post<Refund>('/v1/refunds', { payment_intent: intent.id, amount: 200 });
    const other = await createMerchant(t, 'Refund tenancy merchant');
    const liveKey = await t.admin.post<{ secret: string }>('/admin/keys', {
      merchant: t.merchantId,
      livemode: true,
    });
    const live = t.api.withKey(liveKey.body.secret);
    for (const api of [other.api, live]) {
      const byIntent = await api.post<ErrorBody>('/v1/refunds', { payment_intent: intent.id });
      expect(byIntent.status).toBe(404);
      expect(byIntent.body.error).toMatchObject({ code: 'resource_missing', param: 'payment_intent' });
      const byCharge = await api.post<ErrorBody>('/v1/refunds', { charge: intent.latest_charge });
      expect(byCharge.status).toBe(404);
      expect(byCharge.body.error.param).toBe('charge');
      expect((await api.get(`/v1/refunds/${refund.body.id}`)).status).toBe(404);
      expect((await api.post(`/v1/refunds/${refund.body.id}`, { metadata: { x: '1' } })).status).toBe(404);
      const list = await api.get<List<Refund>>('/v1/refunds');
      expect(list.body.data).toEqual([]);
    }
    expect((await chargeOf(t.merchant, intent)).amount_refunded).toBe(200);
  });

  it('updates metadata only, with a refund.updated event', async () => {
    const intent = await pay(t.merchant, 800);
    const refund = await t.merchant.post<Refund>('/v1/refunds', {
      payment_intent: intent.id,
      metadata: { a: '1', b: '2' },
    });
    const updated = await t.merchant.post<Refund>(`/v1/refunds/${refund.body.id}`, {
      metadata: { a: '', c: '3' },
    });
    expect(updated.status, updated.text).toBe(200);
    expect(updated.body.metadata).toEqual({ b: '2', c: '3' });
    const amount = await t.merchant.post<ErrorBody>(`/v1/refunds/${refund.body.id}`, { amount: 1 });
    expect(amount.status).toBe(400);
    expect(amount.body.error.param).toBe('amount');
    const events = await eventsAbout(refund.body.id, 'refund.updated');
    expect(events).toHaveLength(1);
  });

  it('shows refunds in the balance and balance transactions; the ledger stays balanced', async () => {
    const merchant = await createMerchant(t, 'Refund balance merchant');
    const intent = await pay(merchant.api, 4000);
    expect(await available(merchant.api)).toBe(0);
    const refund = await merchant.api.post<Refund>('/v1/refunds', {
      payment_intent: intent.id,
      amount: 1500,
    });
    expect(refund.status, refund.text).toBe(200);
    // Refunds come out of available funds (which may go negative while the charge is pending).
    expect(await available(merchant.api)).toBe(-1500);
    const rows = await merchant.api.get<List<BalanceTransaction>>('/v1/balance_transactions', {
      type: 'refund',
    });
    expect(rows.body.data).toEqual([
      expect.objectContaining({
        id: refund.body.balance_transaction,
        amount: -1500,
        type: 'refund',
        source: refund.body.id,
      }),
    ]);
    await ledgerClean();
  });

  it("has the fields, types and nesting of Stripe's refund object", async () => {
    const fixtures = stripeFixtures;
    const intent = await pay(t.merchant, 1000);
    const refund = await t.merchant.post<Refund>('/v1/refunds', { payment_intent: intent.id, amount: 100 });
    expectSameShape(refund.body, fixtures.resources.refund);
    expectSameShape((await t.merchant.get(`/v1/refunds/${refund.body.id}`)).body, fixtures.resources.refund);
  });
});

describe('when the provider cannot be reached', () => {
  const emulator = () => t.service.providers.emulators.stripe?.url as string;
  const setFaults = (faults: Record<string, unknown>) =>
    fetch(`${emulator()}/_emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(faults),
    });

  it('answers 503 and keeps nothing when the provider proves nothing was refunded', async () => {
    const intent = await pay(t.merchant, 1800);
    await setFaults({ error_rate: 1, status: 429 });
    try {
      const refused = await t.merchant.post<ErrorBody>('/v1/refunds', { payment_intent: intent.id });
      expect(refused.status, refused.text).toBe(503);
      expect(refused.body.error.code).toBe('provider_unavailable');
    } finally {
      await setFaults({});
    }
    expect((await chargeOf(t.merchant, intent)).amount_refunded).toBe(0);
    const list = await t.merchant.get<List<Refund>>('/v1/refunds', { payment_intent: intent.id });
    expect(list.body.data).toEqual([]);
    const again = await t.merchant.post<Refund>('/v1/refunds', { payment_intent: intent.id });
    expect(again.status, again.text).toBe(200);
    expect(again.body.amount).toBe(1800);
  });

  it('leaves an unknown outcome pending and the recovery job sends the same refund again', async () => {
    const intent = await pay(t.merchant, 2200);
    await setFaults({ error_rate: 1, status: 500 });
    let pending: Refund;
    try {
      const reply = await t.merchant.post<Refund>('/v1/refunds', { payment_intent: intent.id, amount: 700 });
      expect(reply.status, reply.text).toBe(200);
      pending = reply.body;
    } finally {
      await setFaults({});
    }
    expect(pending).toMatchObject({ status: 'pending', balance_transaction: null });
    // Reserved meanwhile: no second refund can take the same money.
    expect((await chargeOf(t.merchant, intent)).amount_refunded).toBe(700);
    expect(await eventsAbout(pending.id, 'refund.created')).toHaveLength(0);

    await t.api.post('/_test/clock', { advance_seconds: 20 });
    await t.service.services.refundRecovery.runDue();
    const settled = await waitFor('the refund to settle', async () => {
      const current = await t.merchant.get<Refund>(`/v1/refunds/${pending.id}`);
      return current.body.status === 'succeeded' ? current.body : undefined;
    });
    expect(settled.balance_transaction).toMatch(/^txn_/);
    expect((await chargeOf(t.merchant, intent)).amount_refunded).toBe(700);
    expect(await eventsAbout(pending.id, 'refund.created')).toHaveLength(1);
    // One refund at the provider, however often it was sent.
    const state = (await fetch(`${emulator()}/_emulator/state?types=refunds`).then((r) => r.json())) as {
      refunds: { metadata: Record<string, string> }[];
    };
    expect(state.refunds.filter((r) => r.metadata.refund_id === pending.id)).toHaveLength(1);
    await ledgerClean();
  });
});

describe('a refund the provider fails later', () => {
  it('is reversed once: balance restored, refund failed, events recorded', async () => {
    const merchant = await createMerchant(t, 'Refund failure merchant');
    const method = await merchant.api.post<{ id: string }>('/v1/payment_methods', {
      type: 'card',
      card: {
        number: '4000000000005126',
        exp_month: 12,
        exp_year: new Date().getUTCFullYear() + 2,
        cvc: '123',
      },
    });
    expect(method.status, method.text).toBe(200);
    const intent = await pay(merchant.api, 2500, method.body.id);
    const refund = await merchant.api.post<Refund>('/v1/refunds', {
      payment_intent: intent.id,
      amount: 1000,
    });
    expect(refund.status, refund.text).toBe(200);
    expect(refund.body.status).toBe('succeeded');
    expect(await available(merchant.api)).toBe(-1000);

    const failed = await waitFor('the refund to fail', async () => {
      const current = await merchant.api.get<Refund>(`/v1/refunds/${refund.body.id}`);
      return current.body.status === 'failed' ? current.body : undefined;
    });
    expect(failed).toMatchObject({ failure_reason: 'expired_or_canceled_card', amount: 1000 });
    expect(failed.failure_balance_transaction).toEqual(expect.any(String));
    expect(await available(merchant.api)).toBe(0);
    expect((await chargeOf(merchant.api, intent)).amount_refunded).toBe(0);
    const reversal = await merchant.api.get<BalanceTransaction>(
      `/v1/balance_transactions/${failed.failure_balance_transaction}`,
    );
    expect(reversal.body).toMatchObject({ amount: 1000, type: 'refund_failure', source: refund.body.id });

    // The provider says it again (a redelivery of every event about this refund): nothing changes twice.
    const state = await fetch(
      `${t.service.providers.emulators.stripe?.url}/_emulator/state?types=events,refunds`,
    ).then(
      (r) =>
        r.json() as Promise<{
          events: {
            id: string;
            type: string;
            created: number;
            data: { object: { id: string; metadata?: Record<string, string> } };
          }[];
        }>,
    );
    const about = state.events.filter((event) => event.data.object.metadata?.refund_id === refund.body.id);
    expect(about.map((event) => event.type)).toEqual(
      expect.arrayContaining(['refund.created', 'refund.failed']),
    );
    for (const event of [...about].reverse()) {
      const redelivered: ProviderEvent = {
        providerEventId: event.id,
        type: event.type,
        occurredAt: new Date(event.created * 1000),
        payload: event,
      };
      await t.service.services.webhooks.dispatch('stripe', redelivered);
    }
    expect(await available(merchant.api)).toBe(0);
    expect((await chargeOf(merchant.api, intent)).amount_refunded).toBe(0);
    const failures = await merchant.api.get<List<BalanceTransaction>>('/v1/balance_transactions', {
      type: 'refund_failure',
    });
    expect(failures.body.data).toHaveLength(1);
    const failedEvents = await merchant.api.get<List<Event>>('/v1/events', { type: 'refund.failed' });
    expect(failedEvents.body.data.filter((e) => e.data.object.id === refund.body.id)).toHaveLength(1);
    const updated = await merchant.api.get<List<Event>>('/v1/events', { type: 'charge.refund.updated' });
    expect(updated.body.data.filter((e) => e.data.object.id === refund.body.id)).toHaveLength(1);

    // The amount is refundable again.
    const again = await merchant.api.post<Refund>('/v1/refunds', { payment_intent: intent.id, amount: 2500 });
    expect(again.status, again.text).toBe(200);
    await ledgerClean();
  });
});

describe('disputes', () => {
  async function providerDispute(intent: Intent) {
    const attempt = await t.service.database.db
      .selectFrom('payment_attempts')
      .select('provider_payment_id')
      .where('payment_intent_id', '=', intent.id)
      .executeTakeFirstOrThrow();
    const emulator = t.service.providers.emulators.stripe?.url as string;
    const state = (await fetch(`${emulator}/_emulator/state?types=disputes`).then((r) => r.json())) as {
      disputes: { id: string; payment_intent: string }[];
    };
    const dispute = state.disputes.find((d) => d.payment_intent === attempt.provider_payment_id);
    if (!dispute) throw new Error('no dispute at the emulator');
    return {
      id: dispute.id,
      post: (path: string, body: Record<string, string>) =>
        fetch(`${emulator}/v1/disputes/${dispute.id}${path}`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${EMBEDDED_STRIPE_KEY}`,
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: new URLSearchParams(body).toString(),
        }),
    };
  }

  async function disputed(api: Api, intent: Intent) {
    return waitFor('the dispute to be recorded', async () => {
      const charge = await chargeOf(api, intent);
      return charge.disputed ? charge : undefined;
    });
  }

  async function disputeRow(intent: Intent) {
    return t.service.database.db
      .selectFrom('disputes')
      .selectAll()
      .where('payment_intent_id', '=', intent.id)
      .executeTakeFirst();
  }

  it('posts the withdrawal, refuses refunds while open, and reinstates the funds when won', async () => {
    const merchant = await createMerchant(t, 'Dispute won merchant');
    const intent = await pay(merchant.api, 3000, 'pm_card_createDispute');
    await disputed(merchant.api, intent);
    const opened = await waitFor('the withdrawal', async () => {
      const row = await disputeRow(intent);
      return row?.balance_transaction_id ? row : undefined;
    });
    expect(opened).toMatchObject({ status: 'needs_response', amount: 3000 });
    expect(await available(merchant.api)).toBe(-(3000 + opened.fee));

    const refund = await merchant.api.post<ErrorBody>('/v1/refunds', { payment_intent: intent.id });
    expect(refund.status).toBe(400);
    expect(refund.body.error).toMatchObject({ code: 'charge_disputed', param: 'payment_intent' });
    expect((await chargeOf(merchant.api, intent)).amount_refunded).toBe(0);

    const dispute = await providerDispute(intent);
    const answer = await dispute.post('', { 'evidence[uncategorized_text]': 'winning_evidence' });
    expect(answer.status).toBe(200);
    await waitFor('the dispute to be won', async () => (await disputeRow(intent))?.status === 'won');
    expect(await available(merchant.api)).toBe(-opened.fee);
    const created = await merchant.api.get<
      List<Event & { data: { object: { object: string; charge: string } } }>
    >('/v1/events', { type: 'charge.dispute.created' });
    expect(created.body.data).toHaveLength(1);
    expect(created.body.data[0]?.data.object).toMatchObject({
      id: opened.id,
      object: 'dispute',
      amount: 3000,
      charge: intent.latest_charge,
      payment_intent: intent.id,
    });
    const closed = await merchant.api.get<List<Event>>('/v1/events', { type: 'charge.dispute.closed' });
    expect(closed.body.data.map((e) => e.data.object.status)).toEqual(['won']);
    // Won: the charge may be refunded again.
    const after = await merchant.api.post<Refund>('/v1/refunds', { payment_intent: intent.id, amount: 1000 });
    expect(after.status, after.text).toBe(200);
    await ledgerClean();
  });

  it('takes the loss when the dispute is lost and counts it against the charge', async () => {
    const merchant = await createMerchant(t, 'Dispute lost merchant');
    const intent = await pay(merchant.api, 2000, 'pm_card_createDispute');
    await disputed(merchant.api, intent);
    const opened = await waitFor('the withdrawal', async () => {
      const row = await disputeRow(intent);
      return row?.balance_transaction_id ? row : undefined;
    });
    const dispute = await providerDispute(intent);
    expect((await dispute.post('/close', {})).status).toBe(200);
    await waitFor('the dispute to be lost', async () => (await disputeRow(intent))?.status === 'lost');
    const charge = await t.service.database.db
      .selectFrom('charges')
      .selectAll()
      .where('payment_intent_id', '=', intent.id)
      .executeTakeFirstOrThrow();
    expect(charge).toMatchObject({ amount_lost_in_disputes: 2000, dispute_status: 'lost', disputed: true });
    expect(await available(merchant.api)).toBe(-(2000 + opened.fee));
    const refund = await merchant.api.post<ErrorBody>('/v1/refunds', {
      payment_intent: intent.id,
      amount: 1,
    });
    expect(refund.status).toBe(400);
    expect(refund.body.error.code).toBe('charge_disputed');
    const closed = await merchant.api.get<List<Event>>('/v1/events', { type: 'charge.dispute.closed' });
    expect(closed.body.data.map((e) => e.data.object.status)).toEqual(['lost']);
    await ledgerClean();
  });
});
