import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../src/modules/ledger/ledger.verify.js';
import { Api } from './support/http.js';
import { metricValue } from './support/jobs.js';
import { createMerchant, startTestService, type TestService } from './support/service.js';
import { expectSameShape, stripeFixtures } from './support/stripe-shape.js';
import { waitFor } from './support/wait.js';

type Dispute = {
  id: string;
  object: 'dispute';
  amount: number;
  status: string;
  charge: string;
  payment_intent: string;
  balance_transactions: { amount: number; fee: number; type: string; reporting_category: string }[];
  evidence: Record<string, string | null>;
  evidence_details: {
    due_by: number | null;
    has_evidence: boolean;
    past_due: boolean;
    submission_count: number;
  };
  is_charge_refundable: boolean;
  payment_method_details: { type: string; card?: { case_type: string }; paypal?: { case_type: string } };
  metadata: Record<string, string>;
};
type Intent = { id: string; status: string; latest_charge: string | null };
type List<T> = { object: 'list'; data: T[]; has_more: boolean };
type ErrorBody = { error: { type: string; code: string; param?: string; message: string } };
type Event = {
  type: string;
  data: {
    object: { id: string; status?: string; evidence_details?: { submission_count: number } };
    previous_attributes?: Record<string, unknown>;
  };
};
type BalanceTransaction = {
  amount: number;
  fee: number;
  net: number;
  type: string;
  reporting_category: string;
};
type Balance = { available: { amount: number; currency: string }[] };

interface ProviderCase {
  name: 'stripe' | 'paypal';
  env: Record<string, string>;
  /** The payment method (Stripe's test ids, which our API also reads for PayPal) for each scenario. */
  chargeback: string;
  inquiry: string;
  /** Stripe takes a dispute fee with the withdrawal; PayPal's resource reports none. */
  fee: number;
  caseType(dispute: Dispute): string | undefined;
  /** The provider's own dispute in its emulator's `/_emulator/state`: decided yet, and what evidence it holds. */
  providerDispute(state: EmulatorState, id: string): ProviderDisputeView | undefined;
}

// biome-ignore lint/suspicious/noExplicitAny: the emulators' state is each provider's own wire form
type EmulatorState = Record<string, any>;
type ProviderDisputeView = { closed: boolean; evidence: string[]; submissions: number };

const cases: ProviderCase[] = [
  {
    name: 'stripe',
    env: {},
    chargeback: 'pm_card_createDispute',
    inquiry: 'pm_card_createDisputeInquiry',
    fee: 1500,
    caseType: (dispute) => dispute.payment_method_details.card?.case_type,
    providerDispute: (state, id) => {
      const found = (state.disputes as EmulatorState[]).find((dispute) => dispute.id === id);
      if (!found) return undefined;
      return {
        closed: ['won', 'lost', 'warning_closed'].includes(found.status),
        evidence: Object.values(found.evidence as Record<string, unknown>).filter(
          (value): value is string => typeof value === 'string',
        ),
        submissions: found.evidence_details.submission_count,
      };
    },
  },
  {
    name: 'paypal',
    env: { ROUTING_DEFAULTS: JSON.stringify({ card: ['paypal'] }) },
    chargeback: 'pm_card_createDispute',
    inquiry: 'pm_card_createDisputeInquiry',
    fee: 0,
    caseType: (dispute) => dispute.payment_method_details.paypal?.case_type,
    providerDispute: (state, id) => {
      const found = (state.disputes as EmulatorState[]).find((dispute) => dispute.dispute_id === id);
      if (!found) return undefined;
      const evidence = ((found.evidences ?? []) as { notes: string }[]).map((piece) => piece.notes);
      return { closed: found.status === 'RESOLVED', evidence, submissions: evidence.length };
    },
  },
];

describe.each(cases)('disputes on $name', (provider) => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService({ env: provider.env });
  });
  afterAll(async () => {
    await t?.close();
  });

  async function pay(api: Api, amount: number, paymentMethod: string): Promise<Intent> {
    const created = await api.post<Intent>('/v1/payment_intents', {
      amount,
      currency: 'usd',
      payment_method: paymentMethod,
      confirm: 'true',
    });
    expect(created.status, created.text).toBe(200);
    expect(created.body.status).toBe('succeeded');
    return created.body;
  }

  async function disputeOf(api: Api, intent: Intent, wanted?: (d: Dispute) => boolean): Promise<Dispute> {
    return waitFor(`the dispute of ${intent.id}`, async () => {
      const list = await api.get<List<Dispute>>('/v1/disputes', { payment_intent: intent.id });
      const dispute = list.body.data[0];
      return dispute && (!wanted || wanted(dispute)) ? dispute : undefined;
    });
  }

  async function settled(api: Api, id: string, status: string): Promise<Dispute> {
    return waitFor(`dispute ${id} to be ${status}`, async () => {
      const dispute = (await api.get<Dispute>(`/v1/disputes/${id}`)).body;
      return dispute.status === status ? dispute : undefined;
    });
  }

  async function available(api: Api): Promise<number> {
    const balance = await api.get<Balance>('/v1/balance');
    return balance.body.available.find((funds) => funds.currency === 'usd')?.amount ?? 0;
  }

  /** The dispute's events, oldest first. */
  async function disputeEvents(api: Api, id: string): Promise<Event[]> {
    const list = await api.get<List<Event>>('/v1/events', { limit: 100 });
    return list.body.data
      .filter((event) => event.type.startsWith('charge.dispute.') && event.data.object.id === id)
      .reverse();
  }

  async function eventTypes(api: Api, id: string): Promise<string[]> {
    return (await disputeEvents(api, id)).map((event) => event.type);
  }

  /** The `charge.dispute.updated` that recorded the merchant's evidence submission. */
  async function expectEvidenceUpdate(api: Api, id: string) {
    const updates = (await disputeEvents(api, id)).filter(
      (event) =>
        event.type === 'charge.dispute.updated' && event.data.object.evidence_details?.submission_count === 1,
    );
    expect(updates, 'charge.dispute.updated for the evidence').toHaveLength(1);
    expect(updates[0]?.data.previous_attributes).toMatchObject({
      evidence_details: { submission_count: 0 },
    });
  }

  /** The kinds of the ledger transactions posted for a dispute, sorted. */
  async function postingKinds(disputeId: string): Promise<string[]> {
    const rows = await t.service.database.db
      .selectFrom('ledger_transactions')
      .select('kind')
      .where('source_id', '=', disputeId)
      .execute();
    return rows.map((row) => row.kind).sort();
  }

  /** The dispute's balance transactions as the merchant lists them. */
  async function balanceTransactionsOf(api: Api, disputeId: string): Promise<BalanceTransaction[]> {
    const list = await api.get<List<BalanceTransaction>>('/v1/balance_transactions', { source: disputeId });
    expect(list.status, list.text).toBe(200);
    return list.body.data.map(({ amount, fee, net, type, reporting_category }) => ({
      amount,
      fee,
      net,
      type,
      reporting_category,
    }));
  }

  /** The control API of the emulator this provider's payments go to. */
  function emulatorControl(): Api {
    const emulator = t.service.providers.emulators[provider.name];
    if (!emulator) throw new Error(`the embedded ${provider.name} emulator is not running`);
    return new Api(emulator.url);
  }

  /** The merchant's ledger transactions, less the pending -> available releases the clock brings. */
  async function merchantPostings(merchantId: string) {
    return t.service.database.db
      .selectFrom('ledger_transactions')
      .select(['id', 'kind', 'source_id'])
      .where('merchant_id', '=', merchantId)
      .where('kind', '!=', 'release')
      .orderBy('id')
      .execute();
  }

  async function ledgerClean() {
    const report = await verifyLedger(t.service.database.db);
    expect(report.checks.filter((check) => check.violations > 0)).toEqual([]);
    expect(report.ok).toBe(true);
  }

  it('an inquiry moves no money, keeps the charge refundable, and closes on winning evidence', async () => {
    const merchant = await createMerchant(t, `${provider.name} inquiry`);
    const intent = await pay(merchant.api, 2500, provider.inquiry);
    const dispute = await disputeOf(merchant.api, intent);
    expect(dispute).toMatchObject({
      object: 'dispute',
      amount: 2500,
      status: 'warning_needs_response',
      charge: intent.latest_charge,
      payment_intent: intent.id,
      balance_transactions: [],
      is_charge_refundable: true,
    });
    expect(provider.caseType(dispute)).toBe('inquiry');
    expect(dispute.evidence_details.due_by).toBeGreaterThan(Date.now() / 1000);
    const before = await available(merchant.api);

    const answered = await merchant.api.post<Dispute>(`/v1/disputes/${dispute.id}`, {
      evidence: { uncategorized_text: 'Signed delivery receipt attached: winning_evidence' },
    });
    expect(answered.status, answered.text).toBe(200);
    const closed = await settled(merchant.api, dispute.id, 'warning_closed');
    expect(closed.balance_transactions).toEqual([]);
    expect(closed.evidence.uncategorized_text).toContain('winning_evidence');
    expect(closed.evidence_details).toMatchObject({ has_evidence: true, submission_count: 1 });
    expect(await available(merchant.api)).toBe(before);
    const types = await eventTypes(merchant.api, dispute.id);
    expect(types[0]).toBe('charge.dispute.created');
    expect(types.filter((type) => type === 'charge.dispute.closed')).toHaveLength(1);
    expect(types).not.toContain('charge.dispute.funds_withdrawn');
    const charge = await merchant.api.get<{ disputed: boolean }>(`/v1/charges/${intent.latest_charge}`);
    expect(charge.body.disputed).toBe(true);
    await ledgerClean();
  });

  it('a chargeback withdraws the funds and is won back with winning evidence', async () => {
    const merchant = await createMerchant(t, `${provider.name} chargeback won`);
    const intent = await pay(merchant.api, 3000, provider.chargeback);
    const dispute = await disputeOf(merchant.api, intent, (d) => d.balance_transactions.length === 1);
    expect(dispute).toMatchObject({ status: 'needs_response', is_charge_refundable: false });
    expect(provider.caseType(dispute)).toBe('chargeback');
    expect(dispute.balance_transactions[0], JSON.stringify(dispute.balance_transactions[0])).toMatchObject({
      amount: -3000,
      fee: provider.fee,
    });
    expect(await available(merchant.api)).toBe(-(3000 + provider.fee));

    const refund = await merchant.api.post<ErrorBody>('/v1/refunds', { payment_intent: intent.id });
    expect(refund.status).toBe(400);
    expect(refund.body.error.code).toBe('charge_disputed');

    const answered = await merchant.api.post<Dispute>(`/v1/disputes/${dispute.id}`, {
      evidence: { product_description: 'Concert ticket', uncategorized_text: 'winning_evidence' },
      metadata: { case: 'C-1' },
    });
    expect(answered.status, answered.text).toBe(200);
    const won = await settled(merchant.api, dispute.id, 'won');
    expect(won.metadata).toEqual({ case: 'C-1' });
    expect(won.balance_transactions.map((txn) => txn.amount)).toEqual([-3000, 3000]);
    expect(await available(merchant.api)).toBe(0 - provider.fee);
    const types = await eventTypes(merchant.api, dispute.id);
    expect(types).toEqual(
      expect.arrayContaining([
        'charge.dispute.created',
        'charge.dispute.funds_withdrawn',
        'charge.dispute.funds_reinstated',
        'charge.dispute.closed',
      ]),
    );
    expect(types.filter((type) => type === 'charge.dispute.closed')).toHaveLength(1);
    expect(types.filter((type) => type === 'charge.dispute.funds_withdrawn')).toHaveLength(1);
    await expectEvidenceUpdate(merchant.api, dispute.id);
    expect(await postingKinds(dispute.id)).toEqual(['dispute', 'dispute_reversal']);
    await ledgerClean();
  });

  it('a chargeback answered with losing evidence is lost: the loss counts against the charge', async () => {
    const merchant = await createMerchant(t, `${provider.name} chargeback lost`);
    const intent = await pay(merchant.api, 2000, provider.chargeback);
    const dispute = await disputeOf(merchant.api, intent, (d) => d.balance_transactions.length === 1);
    const answered = await merchant.api.post<Dispute>(`/v1/disputes/${dispute.id}`, {
      evidence: { uncategorized_text: 'losing_evidence' },
    });
    expect(answered.status, answered.text).toBe(200);
    const lost = await settled(merchant.api, dispute.id, 'lost');
    expect(lost.balance_transactions.map((txn) => txn.amount)).toEqual([-2000]);
    expect(await available(merchant.api)).toBe(-(2000 + provider.fee));
    const charge = await t.service.database.db
      .selectFrom('charges')
      .select(['amount_lost_in_disputes', 'dispute_status'])
      .where('payment_intent_id', '=', intent.id)
      .executeTakeFirstOrThrow();
    expect(charge).toEqual({ amount_lost_in_disputes: 2000, dispute_status: 'lost' });
    const types = await eventTypes(merchant.api, dispute.id);
    expect(types[0]).toBe('charge.dispute.created');
    expect(types.filter((type) => type === 'charge.dispute.funds_withdrawn')).toHaveLength(1);
    expect(types.filter((type) => type === 'charge.dispute.closed')).toHaveLength(1);
    expect(types).not.toContain('charge.dispute.funds_reinstated');
    await expectEvidenceUpdate(merchant.api, dispute.id);
    // The withdrawal stays; the loss sends the disputed amount back through the provider's clearing.
    expect(await postingKinds(dispute.id)).toEqual(['dispute', 'dispute_loss']);
    expect(await balanceTransactionsOf(merchant.api, dispute.id)).toEqual([
      {
        amount: -2000,
        fee: provider.fee,
        net: -(2000 + provider.fee),
        type: 'adjustment',
        reporting_category: 'dispute',
      },
    ]);
    await ledgerClean();
  });

  it('an accepted (closed) chargeback is lost; closing it again names the dispute', async () => {
    const merchant = await createMerchant(t, `${provider.name} chargeback accepted`);
    const intent = await pay(merchant.api, 1800, provider.chargeback);
    const dispute = await disputeOf(merchant.api, intent, (d) => d.balance_transactions.length === 1);
    const accepted = await merchant.api.post<Dispute>(`/v1/disputes/${dispute.id}/close`, {});
    expect(accepted.status, accepted.text).toBe(200);
    expect(accepted.body.status).toBe('lost');
    expect(accepted.body.balance_transactions).toMatchObject([{ amount: -1800, fee: provider.fee }]);
    expect(await available(merchant.api)).toBe(-(1800 + provider.fee));
    expect(await balanceTransactionsOf(merchant.api, dispute.id)).toEqual([
      {
        amount: -1800,
        fee: provider.fee,
        net: -(1800 + provider.fee),
        type: 'adjustment',
        reporting_category: 'dispute',
      },
    ]);
    expect(await postingKinds(dispute.id)).toEqual(['dispute', 'dispute_loss']);
    const types = await eventTypes(merchant.api, dispute.id);
    expect(types[0]).toBe('charge.dispute.created');
    expect([...types].sort()).toEqual([
      'charge.dispute.closed',
      'charge.dispute.created',
      'charge.dispute.funds_withdrawn',
    ]);
    const charge = await t.service.database.db
      .selectFrom('charges')
      .select(['amount_lost_in_disputes', 'dispute_status'])
      .where('payment_intent_id', '=', intent.id)
      .executeTakeFirstOrThrow();
    expect(charge).toEqual({ amount_lost_in_disputes: 1800, dispute_status: 'lost' });
    const ledgerRows = await t.service.database.db
      .selectFrom('ledger_transactions')
      .select(['id'])
      .where('source_id', '=', dispute.id)
      .execute();
    const again = await merchant.api.post<ErrorBody>(`/v1/disputes/${dispute.id}/close`, {});
    expect(again.status).toBe(400);
    expect(again.body.error).toMatchObject({ code: 'dispute_already_closed', param: 'id' });
    const evidence = await merchant.api.post<ErrorBody>(`/v1/disputes/${dispute.id}`, {
      evidence: { uncategorized_text: 'too late' },
    });
    expect(evidence.status).toBe(400);
    expect(evidence.body.error).toMatchObject({ code: 'dispute_already_closed', param: 'evidence' });
    const after = await t.service.database.db
      .selectFrom('ledger_transactions')
      .select(['id'])
      .where('source_id', '=', dispute.id)
      .execute();
    expect(after).toEqual(ledgerRows);
    expect(
      (await merchant.api.get<Dispute>(`/v1/disputes/${dispute.id}`)).body.evidence.uncategorized_text,
    ).toBe(null);
    await ledgerClean();
  });

  it('refuses unknown evidence fields and oversized evidence naming the parameter, changing nothing', async () => {
    const merchant = await createMerchant(t, `${provider.name} bad evidence`);
    const intent = await pay(merchant.api, 1200, provider.chargeback);
    const dispute = await disputeOf(merchant.api, intent);
    const unknown = await merchant.api.post<ErrorBody>(`/v1/disputes/${dispute.id}`, {
      evidence: { favourite_colour: 'blue' },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.param).toMatch(/^evidence/);
    const huge = await merchant.api.post<ErrorBody>(`/v1/disputes/${dispute.id}`, {
      evidence: { uncategorized_text: 'x'.repeat(20_001) },
    });
    expect(huge.status).toBe(400);
    expect(huge.body.error.param).toMatch(/^evidence/);
    const submit = await merchant.api.post<ErrorBody>(`/v1/disputes/${dispute.id}`, { submit: 'maybe' });
    expect(submit.status).toBe(400);
    expect(submit.body.error.param).toBe('submit');
    const now = (await merchant.api.get<Dispute>(`/v1/disputes/${dispute.id}`)).body;
    expect(now).toMatchObject({ status: dispute.status, evidence_details: { submission_count: 0 } });
  });

  it("answers 404 for another merchant's dispute and for an unknown id", async () => {
    const owner = await createMerchant(t, `${provider.name} owner`);
    const intent = await pay(owner.api, 1500, provider.chargeback);
    const dispute = await disputeOf(owner.api, intent);
    const other = await createMerchant(t, `${provider.name} other`);
    for (const reply of [
      await other.api.get<ErrorBody>(`/v1/disputes/${dispute.id}`),
      await other.api.post<ErrorBody>(`/v1/disputes/${dispute.id}`, {
        evidence: { uncategorized_text: 'x' },
      }),
      await other.api.post<ErrorBody>(`/v1/disputes/${dispute.id}/close`, {}),
      await owner.api.get<ErrorBody>('/v1/disputes/dp_doesnotexist'),
    ]) {
      expect(reply.status).toBe(404);
      expect(reply.body.error.code).toBe('resource_missing');
    }
    expect((await other.api.get<List<Dispute>>('/v1/disputes')).body.data).toEqual([]);
    expect((await owner.api.get<Dispute>(`/v1/disputes/${dispute.id}`)).body.status).toBe(dispute.status);
  });

  if (provider.name === 'stripe') {
    it("reports runbook 002's dispute and refund rates over the charges of the window", async () => {
      const merchant = await createMerchant(t, 'rates');
      const plain = await pay(merchant.api, 1000, 'pm_card_visa');
      await pay(merchant.api, 1000, 'pm_card_visa');
      const refund = await merchant.api.post('/v1/refunds', { payment_intent: plain.id, amount: 100 });
      expect(refund.status, refund.text).toBe(200);
      const db = t.service.database.db;
      const charges = await db
        .selectFrom('charges')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('status', '=', 'succeeded')
        .executeTakeFirstOrThrow();
      const disputed = await db
        .selectFrom('disputes')
        .select((eb) => eb.fn.count<string>('charge_id').distinct().as('n'))
        .executeTakeFirstOrThrow();
      const refunded = await db
        .selectFrom('charges')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('amount_refunded', '>', 0)
        .executeTakeFirstOrThrow();
      const text = (await t.api.get('/metrics')).text;
      const labels = { mode: 'test', window: '24h' };
      const disputeRate = metricValue(text, 'payment_dispute_rate', labels);
      const refundRate = metricValue(text, 'payment_refund_rate', labels);
      expect(disputeRate).toBeCloseTo(Number(disputed.n) / Number(charges.n), 6);
      expect(refundRate).toBeCloseTo(Number(refunded.n) / Number(charges.n), 6);
      expect(disputeRate).toBeGreaterThan(0);
      expect(refundRate).toBeGreaterThan(0);
      expect(metricValue(text, 'payment_dispute_rate', { mode: 'live', window: '30d' })).toBe(0);
    });

    it("has Stripe's dispute shape", async () => {
      const intent = await pay(t.merchant, 1000, provider.inquiry);
      const dispute = await disputeOf(t.merchant, intent);
      const fixture = stripeFixtures.resources.dispute;
      expectSameShape(dispute, fixture);
    });

    it('saves evidence without submitting it when submit=false', async () => {
      const merchant = await createMerchant(t, 'staged evidence');
      const intent = await pay(merchant.api, 1000, provider.chargeback);
      const dispute = await disputeOf(merchant.api, intent);
      const saved = await merchant.api.post<Dispute>(`/v1/disputes/${dispute.id}`, {
        evidence: { customer_name: 'Ada' },
        submit: 'false',
      });
      expect(saved.status, saved.text).toBe(200);
      expect(saved.body).toMatchObject({
        status: 'needs_response',
        evidence: { customer_name: 'Ada' },
        evidence_details: { has_evidence: true, submission_count: 0 },
      });
    });
  }

  it('refuses evidence on a chargeback once due_by has passed: 400 naming evidence, nothing posted or sent', async () => {
    const merchant = await createMerchant(t, `${provider.name} late evidence`);
    const intent = await pay(merchant.api, 1100, provider.chargeback);
    const dispute = await disputeOf(merchant.api, intent, (d) => d.balance_transactions.length === 1);
    expect(dispute.status).toBe('needs_response');
    const { provider_dispute_id: providerDisputeId } = await t.service.database.db
      .selectFrom('disputes')
      .select('provider_dispute_id')
      .where('id', '=', dispute.id)
      .executeTakeFirstOrThrow();
    const emulator = emulatorControl();
    const target = (await emulator.get<{ url: string; secret: string }>('/_emulator/webhook_target')).body;
    expect(target.url).toContain(`/webhooks/${provider.name}`);
    // The emulator decides an overdue dispute by itself (lost); its events are held back so that our
    // dispute is still open when the evidence arrives, and the refusal can only be the service's own.
    const held = await emulator.post(
      '/_emulator/webhook_target',
      { ...target, enabled_events: ['none.such'] },
      { as: 'json' },
    );
    expect(held.status, held.text).toBe(200);
    try {
      const postings = await merchantPostings(merchant.id);
      const dueBy = dispute.evidence_details.due_by as number;
      const now = (await emulator.get<{ now: number }>('/_emulator/clock')).body.now;
      const moved = await t.api.post('/_test/clock', { advance_seconds: dueBy - now + 60 });
      expect(moved.status, moved.text).toBe(200);

      const late = await merchant.api.post<ErrorBody>(`/v1/disputes/${dispute.id}`, {
        evidence: { uncategorized_text: 'winning_evidence' },
      });
      expect(late.status, late.text).toBe(400);
      expect(late.body.error).toMatchObject({
        type: 'invalid_request_error',
        code: 'dispute_evidence_past_due',
        param: 'evidence',
      });
      const staged = await merchant.api.post<ErrorBody>(`/v1/disputes/${dispute.id}`, {
        evidence: { customer_name: 'Ada' },
        submit: 'false',
      });
      expect(staged.status, staged.text).toBe(400);
      expect(staged.body.error).toMatchObject({ code: 'dispute_evidence_past_due', param: 'evidence' });

      const after = (await merchant.api.get<Dispute>(`/v1/disputes/${dispute.id}`)).body;
      expect(after).toMatchObject({ status: 'needs_response', evidence_details: { past_due: true } });
      expect(after.evidence_details).toMatchObject({ has_evidence: false, submission_count: 0 });
      expect(after.evidence.uncategorized_text).toBe(null);
      expect(after.evidence.customer_name).toBe(null);
      expect(await merchantPostings(merchant.id)).toEqual(postings);
      // The emulator closes the dispute on the evidence it holds, which is none of ours.
      const atProvider = await waitFor('the emulator to decide the overdue dispute', async () => {
        const found = provider.providerDispute(
          (await emulator.get<Record<string, unknown>>('/_emulator/state', { types: 'disputes' })).body,
          providerDisputeId,
        );
        return found?.closed ? found : undefined;
      });
      expect(atProvider).toMatchObject({ evidence: [], submissions: 0 });
      expect((await merchant.api.get<Dispute>(`/v1/disputes/${dispute.id}`)).body.status).toBe(
        'needs_response',
      );
    } finally {
      const restored = await emulator.post('/_emulator/webhook_target', target, { as: 'json' });
      expect(restored.status, restored.text).toBe(200);
    }
    await ledgerClean();
  });
});
