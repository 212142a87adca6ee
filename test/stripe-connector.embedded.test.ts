// The Stripe connector against a standalone Stripe emulator over real HTTP: the payment flows, their
// typed outcomes, one charge per attempt, and the refund flow. Faults are in stripe-connector-faults.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StripeProvider } from '../src/providers/stripe/stripe.provider.js';
import { maskCardNumbers } from '../src/providers/stripe/stripe.transformers.js';
import { type EmulatorHarness, startHarness } from './emulator-support.js';
import {
  attempt,
  CONNECTOR_KEY,
  card,
  chargesFor,
  connector,
  created,
  paymentRequest,
} from './stripe-connector-support.js';

let h: EmulatorHarness;
let stripe: StripeProvider;
beforeAll(async () => {
  h = await startHarness();
  stripe = connector(h);
});
afterAll(async () => {
  await h.emulator.close();
});

describe('create and confirm', () => {
  it('creates an unconfirmed intent carrying our ids, then charges a card with its fee', async () => {
    const { context, id } = await created(stripe);
    const pi = await h.sdk(CONNECTOR_KEY).paymentIntents.retrieve(id);
    expect(pi.status).toBe('requires_payment_method');
    expect(pi.capture_method).toBe('automatic');
    expect(pi.metadata).toMatchObject({
      payment_attempt_id: context.attemptId,
      payment_intent_id: context.paymentIntentId,
    });

    const outcome = await stripe.confirm(context, id, card('4242424242424242'));
    expect(outcome).toMatchObject({
      status: 'succeeded',
      providerPaymentId: id,
      charge: { amount: 1000, amountCaptured: 1000, cardBrand: 'visa', cardLast4: '4242' },
    });
    if (outcome.status !== 'succeeded') throw new Error('unreachable');
    expect(outcome.charge.providerChargeId).toMatch(/^ch_/);
    expect(outcome.charge.fee).toBeGreaterThan(0);
    expect(await chargesFor(h, id)).toHaveLength(1);
  });

  it('confirms with a provider payment method token', async () => {
    const { context, id } = await created(stripe);
    const outcome = await stripe.confirm(context, id, {
      kind: 'provider_token',
      token: 'pm_card_mastercard',
    });
    expect(outcome).toMatchObject({ status: 'succeeded', charge: { cardBrand: 'mastercard' } });
  });

  it.each([
    ['4000000000000002', 'generic_decline'],
    ['4000000000009995', 'insufficient_funds'],
  ])(
    'maps the decline of %s to declined with its codes and the failed charge',
    async (number, declineCode) => {
      const { context, id } = await created(stripe);
      const outcome = await stripe.confirm(context, id, card(number));
      expect(outcome).toMatchObject({
        status: 'declined',
        providerPaymentId: id,
        code: 'card_declined',
        declineCode,
        charge: { amountCaptured: 0, cardLast4: number.slice(-4) },
      });
      if (outcome.status !== 'declined') throw new Error('unreachable');
      expect(outcome.charge?.providerChargeId).toMatch(/^ch_/);
      expect(outcome.message).not.toContain(number);
      // Read back later, the intent tells the same story.
      expect(await stripe.retrieve(context, id)).toMatchObject({
        status: 'declined',
        code: 'card_declined',
        declineCode,
      });
    },
  );

  it('returns requires_action with the 3-D Secure page, and settles after approval', async () => {
    const { context, id } = await created(stripe);
    const returnUrl = 'http://127.0.0.1:9/return/att';
    const outcome = await stripe.confirm(context, id, card('4000002500003155'), returnUrl);
    expect(outcome.status).toBe('requires_action');
    if (outcome.status !== 'requires_action') throw new Error('unreachable');
    expect(outcome.redirectUrl).toContain(h.emulator.url);
    expect(await chargesFor(h, id)).toHaveLength(0);

    const page = await fetch(`${outcome.redirectUrl}?action=approve`, { redirect: 'manual' });
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toContain(returnUrl);
    expect(await stripe.retrieve(context, id)).toMatchObject({
      status: 'succeeded',
      charge: { amount: 1000 },
    });
  });

  it('refuses an unsupported amount before calling Stripe', async () => {
    const outcome = await stripe.createPayment(paymentRequest(attempt(), { currency: 'kwd', amount: 1005 }));
    expect(outcome).toMatchObject({ status: 'no_charge', reason: 'unsupported' });
  });
});

describe('capture, cancel and refund', () => {
  it('authorizes with manual capture, then captures part of it', async () => {
    const { context, id } = await created(stripe, { captureMethod: 'manual' });
    const authorized = await stripe.confirm(context, id, card('4242424242424242'));
    expect(authorized).toMatchObject({
      status: 'requires_capture',
      charge: { amount: 1000, amountCaptured: 0 },
    });
    const captured = await stripe.capture(context, id, 600);
    expect(captured).toMatchObject({ status: 'succeeded', charge: { amount: 1000, amountCaptured: 600 } });
    // Capturing again with the same attempt replays: still one charge, still 600.
    expect(await stripe.capture(context, id, 600)).toMatchObject({ charge: { amountCaptured: 600 } });
    expect(await chargesFor(h, id)).toHaveLength(1);
  });

  it('cancels an authorization and an intent that was never confirmed', async () => {
    const held = await created(stripe, { captureMethod: 'manual' });
    await stripe.confirm(held.context, held.id, card('4242424242424242'));
    expect(await stripe.cancel(held.context, held.id)).toEqual({
      status: 'canceled',
      providerPaymentId: held.id,
    });
    const fresh = await created(stripe);
    expect(await stripe.cancel(fresh.context, fresh.id)).toEqual({
      status: 'canceled',
      providerPaymentId: fresh.id,
    });
  });

  it('refunds part, then the rest, then refuses more than was captured', async () => {
    const { context, id } = await created(stripe);
    await stripe.confirm(context, id, card('4242424242424242'));
    const first = await stripe.refund({ ...context, refundId: 're_ours_1' }, id, 300);
    expect(first).toMatchObject({ status: 'succeeded', providerRefundId: expect.stringMatching(/^re_/) });
    // The same refund asked again replays instead of refunding twice.
    expect(await stripe.refund({ ...context, refundId: 're_ours_1' }, id, 300)).toEqual(first);
    const rest = await stripe.refund({ ...context, refundId: 're_ours_2' }, id, 700);
    expect(rest.status).toBe('succeeded');
    const over = await stripe.refund({ ...context, refundId: 're_ours_3' }, id, 1);
    expect(over).toMatchObject({ status: 'failed' });
    const state = await h.state('refunds');
    const mine = state.refunds.filter((refund) => refund['payment_intent'] === id);
    expect(mine.map((refund) => refund['amount']).sort()).toEqual([300, 700]);
  });
});

describe('one charge per attempt', () => {
  it('confirming twice for the same attempt charges once and answers the same', async () => {
    const { context, id } = await created(stripe);
    const first = await stripe.confirm(context, id, card('4242424242424242'));
    const second = await stripe.confirm(context, id, card('4242424242424242'));
    expect(second).toEqual(first);
    expect(await chargesFor(h, id)).toHaveLength(1);
  });

  it('creating twice for the same attempt makes one provider object', async () => {
    const context = attempt();
    const a = await stripe.createPayment(paymentRequest(context));
    const b = await stripe.createPayment(paymentRequest(context));
    expect(a).toEqual(b);
  });

  it('a state conflict that shows a charge is never read as "no charge"', async () => {
    const { context, id } = await created(stripe);
    await stripe.confirm(context, id, card('4242424242424242'));
    // Another attempt confirming the same provider object: Stripe answers 400 with the intent.
    const outcome = await stripe.confirm(attempt(), id, card('4242424242424242'));
    expect(outcome).toMatchObject({ status: 'succeeded', providerPaymentId: id });
  });

  it('a payment intent Stripe does not know is a validation failure', async () => {
    const outcome = await stripe.retrieve(attempt(), 'pi_does_not_exist');
    expect(outcome).toMatchObject({ status: 'no_charge', reason: 'invalid_request' });
  });
});

it('masks anything shaped like a card number in provider messages, and nothing shorter', () => {
  expect(maskCardNumbers('card 4242 4242 4242 4242 and 4000000000000002 at 1767225600')).toBe(
    'card [card number] and [card number] at 1767225600',
  );
});
