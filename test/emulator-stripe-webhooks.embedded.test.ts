// Webhooks from the Stripe emulator verified with stripe.webhooks.constructEvent, retried when the
// target fails, and the dispute card's lifecycle decided by evidence or by the clock.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmulatorHarness, startHarness } from './emulator-support.js';

const SECRET = 'whsec_emulator_test_secret';

interface Delivery {
  body: string;
  signature: string;
}

let h: EmulatorHarness;
let receiver: Server;
const deliveries: Delivery[] = [];
/** Event types the receiver answers 500 for, once each, to exercise retries. */
const failOnce = new Set<string>();

beforeAll(async () => {
  h = await startHarness({ webhookRetryDelaysMs: [20, 40, 80] });
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      deliveries.push({ body, signature: String(request.headers['stripe-signature']) });
      const type = (JSON.parse(body) as { type: string }).type;
      if (failOnce.delete(type)) response.writeHead(500).end();
      else response.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as AddressInfo;
  const set = await h.control.post(
    '/_emulator/webhook_target',
    { url: `http://127.0.0.1:${port}/webhooks/stripe`, secret: SECRET },
    { as: 'json' },
  );
  expect(set.status).toBe(200);
});
afterAll(async () => {
  await h.emulator.close();
  await new Promise((resolve) => receiver.close(resolve));
});

function verified(): Stripe.Event[] {
  return deliveries.map((d) => h.stripe.webhooks.constructEvent(d.body, d.signature, SECRET));
}

async function eventually<T>(read: () => T | undefined, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const eventFor = (type: string, objectId: string) => () =>
  verified().find((e) => e.type === type && (e.data.object as { id: string }).id === objectId);

describe('webhooks', () => {
  it('delivers every event signed so that constructEvent verifies it', async () => {
    const pi = await h.stripe.paymentIntents.create(
      {
        amount: 1200,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        capture_method: 'automatic',
      },
      { idempotencyKey: 'webhook-pay-1' },
    );
    const succeeded = await eventually(eventFor('payment_intent.succeeded', pi.id));
    expect(succeeded.request).toEqual({
      id: expect.stringMatching(/^req_/),
      idempotency_key: 'webhook-pay-1',
    });
    expect(succeeded.data.previous_attributes).toMatchObject({ status: 'requires_confirmation' });
    await eventually(eventFor('charge.succeeded', pi.latest_charge as string));
    const fromApi = await h.stripe.events.retrieve(succeeded.id);
    expect(fromApi.type).toBe('payment_intent.succeeded');
    const tampered = deliveries[0]!;
    expect(() =>
      h.stripe.webhooks.constructEvent(
        tampered.body.replace('"livemode":false', '"livemode":true'),
        tampered.signature,
        SECRET,
      ),
    ).toThrow(Stripe.errors.StripeSignatureVerificationError);
  });

  it('retries a delivery the target failed', async () => {
    failOnce.add('payment_intent.created');
    const pi = await h.stripe.paymentIntents.create({ amount: 800, currency: 'usd' });
    await eventually(() => {
      const attempts = verified().filter(
        (e) => e.type === 'payment_intent.created' && (e.data.object as Stripe.PaymentIntent).id === pi.id,
      );
      return attempts.length >= 2 ? attempts : undefined;
    });
    expect(failOnce.size).toBe(0);
  });
});

describe('disputes', () => {
  async function disputedPayment(paymentMethod = 'pm_card_createDispute') {
    const pi = await h.stripe.paymentIntents.create({
      amount: 3000,
      currency: 'usd',
      payment_method: paymentMethod,
      confirm: true,
      capture_method: 'automatic',
    });
    expect(pi.status).toBe('succeeded');
    const created = await eventually(() =>
      verified().find(
        (e) =>
          e.type === 'charge.dispute.created' &&
          (e.data.object as Stripe.Dispute).charge === pi.latest_charge,
      ),
    );
    const dispute = created.data.object as Stripe.Dispute;
    const inquiry = paymentMethod === 'pm_card_createDisputeInquiry';
    expect(dispute).toMatchObject({
      status: inquiry ? 'warning_needs_response' : 'needs_response',
      amount: 3000,
      payment_method_details: { card: { case_type: inquiry ? 'inquiry' : 'chargeback' } },
    });
    const charge = await h.stripe.charges.retrieve(pi.latest_charge as string);
    expect(charge.disputed).toBe(true);
    return { pi, dispute };
  }

  it('the dispute card opens a dispute that withdraws the amount plus the fee', async () => {
    const { dispute } = await disputedPayment();
    const withdrawal = (await h.stripe.disputes.retrieve(dispute.id)).balance_transactions[0]!;
    expect(withdrawal).toMatchObject({ amount: -3000, fee: 1500, net: -4500 });
    const refund = await h.stripe.refunds
      .create({ charge: dispute.charge as string })
      .catch((e: unknown) => e);
    expect((refund as Stripe.errors.StripeError).code).toBe('charge_disputed');
  });

  it('winning evidence wins and reinstates the funds', async () => {
    const { dispute } = await disputedPayment();
    const updated = await h.stripe.disputes.update(dispute.id, {
      evidence: { uncategorized_text: 'delivery confirmed: winning_evidence' },
    });
    expect(updated.status).toBe('won');
    expect(updated.balance_transactions.map((t) => t.amount)).toEqual([-3000, 3000]);
    await eventually(eventFor('charge.dispute.funds_reinstated', dispute.id));
    await eventually(eventFor('charge.dispute.closed', dispute.id));
  });

  it('losing evidence loses', async () => {
    const { dispute } = await disputedPayment();
    const updated = await h.stripe.disputes.update(dispute.id, {
      evidence: { product_description: 'losing_evidence' },
    });
    expect(updated.status).toBe('lost');
    const closedAgain = await h.stripe.disputes.close(dispute.id).catch((e: unknown) => e);
    expect(closedAgain).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
  });

  it('the inquiry card opens an inquiry that moves no money; winning evidence closes it', async () => {
    const { dispute } = await disputedPayment('pm_card_createDisputeInquiry');
    expect(dispute.balance_transactions).toEqual([]);
    expect(dispute.is_charge_refundable).toBe(true);
    const updated = await h.stripe.disputes.update(dispute.id, {
      evidence: { uncategorized_text: 'winning_evidence' },
    });
    expect(updated).toMatchObject({ status: 'warning_closed', balance_transactions: [] });
    await eventually(eventFor('charge.dispute.closed', dispute.id));
    expect(
      verified().some(
        (e) =>
          e.type === 'charge.dispute.funds_withdrawn' && (e.data.object as Stripe.Dispute).id === dispute.id,
      ),
    ).toBe(false);
  });

  it('an inquiry answered with losing evidence escalates to a chargeback that withdraws the funds', async () => {
    const { dispute } = await disputedPayment('pm_card_createDisputeInquiry');
    const escalated = await h.stripe.disputes.update(dispute.id, {
      evidence: { uncategorized_text: 'losing_evidence' },
    });
    expect(escalated).toMatchObject({
      status: 'needs_response',
      payment_method_details: { card: { case_type: 'chargeback' } },
    });
    expect(escalated.balance_transactions.map((t) => t.amount)).toEqual([-3000]);
    await eventually(eventFor('charge.dispute.funds_withdrawn', dispute.id));
    expect((await h.stripe.disputes.close(dispute.id)).status).toBe('lost');
  });

  it('closing an inquiry closes it with no money moved', async () => {
    const { dispute } = await disputedPayment('pm_card_createDisputeInquiry');
    expect(await h.stripe.disputes.close(dispute.id)).toMatchObject({
      status: 'warning_closed',
      balance_transactions: [],
    });
  });

  it('staged evidence is decided when the clock passes due_by; closing concedes', async () => {
    const staged = await disputedPayment();
    const silent = await disputedPayment();
    const conceded = await disputedPayment();
    const kept = await h.stripe.disputes.update(staged.dispute.id, {
      evidence: { uncategorized_text: 'winning_evidence' },
      submit: false,
    });
    expect(kept.status).toBe('needs_response');
    expect(kept.evidence_details.has_evidence).toBe(true);
    expect((await h.stripe.disputes.close(conceded.dispute.id)).status).toBe('lost');
    const dueBy = staged.dispute.evidence_details.due_by as number;
    await h.control.post('/_emulator/clock', { to: dueBy + 1 }, { as: 'json' });
    expect((await h.stripe.disputes.retrieve(staged.dispute.id)).status).toBe('won');
    expect((await h.stripe.disputes.retrieve(silent.dispute.id)).status).toBe('lost');
  });
});

describe('webhook target', () => {
  it('delivers only enabled_events when the target names them', async () => {
    const { port } = receiver.address() as AddressInfo;
    await h.control.post(
      '/_emulator/webhook_target',
      { url: `http://127.0.0.1:${port}/webhooks/stripe`, secret: SECRET, enabled_events: ['refund.created'] },
      { as: 'json' },
    );
    const pi = await h.stripe.paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
    });
    const refund = await h.stripe.refunds.create({ payment_intent: pi.id });
    await eventually(eventFor('refund.created', refund.id));
    expect(verified().filter((e) => (e.data.object as { id: string }).id === pi.id)).toEqual([]);
  });
});
