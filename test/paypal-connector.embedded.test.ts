// The PayPal connector against a PayPal emulator over real HTTP: the OAuth token, PayPal-Request-Id,
// card and wallet flows with their typed outcomes, authorize/capture/void, refunds, currencies, the
// ACDC check, and the faults that must read as no_charge or unknown (never the other way round).
import { createServer } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PayPalProvider } from '../src/providers/paypal/paypal.provider.js';
import { providerIdempotencyKey } from '../src/providers/provider.js';
import {
  attempt,
  capturesFor,
  card,
  created,
  type PayPalHarness,
  paymentRequest,
  RETURN_URL,
  shopper,
  startPayPalHarness,
} from './paypal-connector-support.js';

const VISA = card('4242424242424242');
const WALLET = { kind: 'redirect_wallet' } as const;

let h: PayPalHarness;
let paypal: PayPalProvider;
beforeAll(async () => {
  h = await startPayPalHarness();
  paypal = h.connector();
  expect(await paypal.checkCardEligibility()).toMatchObject({ enabled: true });
});
afterAll(async () => {
  await h.emulator.close();
});
afterEach(async () => {
  await h.control.delete('/_emulator/faults');
  vi.restoreAllMocks();
});

function tokenRequests(spy: { mock: { calls: unknown[][] } }): number {
  return spy.mock.calls.filter(([url]) => String(url).endsWith('/v1/oauth2/token')).length;
}

describe('OAuth token and PayPal-Request-Id', () => {
  it('fetches one token, shared by concurrent callers, and reuses it across calls', async () => {
    const fresh = h.connector();
    const spy = vi.spyOn(globalThis, 'fetch');
    const results = await Promise.all(
      Array.from({ length: 8 }, () => fresh.createPayment(paymentRequest(attempt()))),
    );
    for (const result of results) expect(result).toMatchObject({ providerPaymentId: expect.any(String) });
    await fresh.retrieve(attempt(), (results[0] as { providerPaymentId: string }).providerPaymentId);
    expect(tokenRequests(spy)).toBe(1);
  });

  it('fetches a fresh token once the cached one is near expiry', async () => {
    const fresh = h.connector();
    const spy = vi.spyOn(globalThis, 'fetch');
    await fresh.createPayment(paymentRequest(attempt()));
    h.clock.advance(32_400_000 - 30_000);
    await fresh.createPayment(paymentRequest(attempt()));
    expect(tokenRequests(spy)).toBe(2);
  });

  it('sends {test|live}:{attempt}:{operation} and replays the same attempt to one order', async () => {
    const spy = vi.spyOn(globalThis, 'fetch');
    const context = attempt();
    const first = await paypal.createPayment(paymentRequest(context));
    const second = await paypal.createPayment(paymentRequest(context));
    expect(second).toEqual(first);
    const create = spy.mock.calls.find(([url]) => String(url).endsWith('/v2/checkout/orders'));
    const headers = (create?.[1]?.headers ?? {}) as Record<string, string>;
    expect(headers['paypal-request-id']).toBe(`test:${context.attemptId}:create`);
    expect(headers['paypal-request-id']).toBe(providerIdempotencyKey(context, 'create'));
    expect(headers.prefer).toBe('return=representation');
    const orders = (await h.state('orders')).orders.filter(
      (order) => (order['purchase_units'] as { custom_id?: string }[])[0]?.custom_id === context.attemptId,
    );
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({
      intent: 'CAPTURE',
      status: 'CREATED',
      purchase_units: [
        {
          reference_id: context.attemptId,
          invoice_id: context.paymentIntentId,
          amount: { currency_code: 'USD', value: '10.00' },
        },
      ],
    });
  });
});

describe('cards', () => {
  it('charges a card: succeeded with the capture id, fee and last4, one capture', async () => {
    const { context, id } = await created(paypal);
    const outcome = await paypal.confirm(context, id, VISA, RETURN_URL);
    expect(outcome).toMatchObject({
      status: 'succeeded',
      providerPaymentId: id,
      charge: { amount: 1000, amountCaptured: 1000, cardBrand: 'visa', cardLast4: '4242' },
    });
    if (outcome.status !== 'succeeded') throw new Error('unreachable');
    expect(outcome.charge.fee).toBeGreaterThan(0);
    const captures = await capturesFor(h, id);
    expect(captures).toHaveLength(1);
    expect(outcome.charge.providerChargeId).toBe(captures[0]!.id);
    expect(await paypal.retrieve(context, id)).toEqual(outcome);
  });

  it.each([
    ['4000000000000002', 'generic_decline'],
    ['4000000000009995', 'insufficient_funds'],
    ['4000000000000119', 'processing_error'],
  ])('maps the decline of %s to declined card_declined/%s', async (number, declineCode) => {
    const { context, id } = await created(paypal);
    const outcome = await paypal.confirm(context, id, card(number), RETURN_URL);
    expect(outcome).toMatchObject({
      status: 'declined',
      providerPaymentId: id,
      code: 'card_declined',
      declineCode,
      charge: { amountCaptured: 0, cardLast4: number.slice(-4) },
    });
    if (outcome.status !== 'declined') throw new Error('unreachable');
    expect(outcome.message).not.toContain(number);
    expect(await paypal.retrieve(context, id)).toMatchObject({ status: 'declined', declineCode });
  });

  it('a card needing 3DS is requires_action; once passed, complete captures it', async () => {
    const { context, id } = await created(paypal);
    const outcome = await paypal.confirm(context, id, card('4000002500003155'), RETURN_URL);
    expect(outcome).toMatchObject({ status: 'requires_action', providerPaymentId: id });
    if (outcome.status !== 'requires_action') throw new Error('unreachable');
    expect(outcome.approved).toBeUndefined();
    expect(await shopper(outcome.redirectUrl, 'approve')).toBe(302);
    expect(await paypal.retrieve(context, id)).toMatchObject({ status: 'requires_action', approved: true });
    expect(await paypal.complete(context, id, 'automatic')).toMatchObject({
      status: 'succeeded',
      charge: { cardLast4: '3155', amountCaptured: 1000 },
    });
  });

  it('refuses cards without a call when the account is not ACDC-eligible', async () => {
    const noacdc = h.connector({ clientId: 'noacdc-connector-suite' });
    expect(await noacdc.checkCardEligibility()).toMatchObject({
      enabled: false,
      reason: expect.stringMatching(/CUSTOM_CARD_PROCESSING is SUSPENDED/),
    });
    expect(noacdc.cardsEnabled).toBe(false);
    const { context, id } = await created(noacdc);
    expect(await noacdc.confirm(context, id, VISA, RETURN_URL)).toMatchObject({
      status: 'no_charge',
      reason: 'unsupported',
    });
    // Had it asked, PayPal would have refused too: a validation refusal, no charge.
    noacdc.cardsEnabled = true;
    expect(await noacdc.confirm(context, id, VISA, RETURN_URL)).toMatchObject({
      status: 'no_charge',
      reason: 'invalid_request',
      message: expect.stringContaining('PAYEE_NOT_ENABLED_FOR_CARD_PROCESSING'),
    });
    expect(await capturesFor(h, id)).toHaveLength(0);
  });
});

describe('PayPal wallet (redirect)', () => {
  it('requires_action with the payer-action link; approved, then complete captures once', async () => {
    const { context, id } = await created(paypal);
    const outcome = await paypal.confirm(context, id, WALLET, RETURN_URL);
    expect(outcome).toMatchObject({ status: 'requires_action', providerPaymentId: id });
    if (outcome.status !== 'requires_action') throw new Error('unreachable');
    expect(outcome.redirectUrl).toContain(id);
    const order = (await h.state('orders')).orders.find((o) => o.id === id);
    expect(order?.['status']).toBe('PAYER_ACTION_REQUIRED');

    expect(await paypal.retrieve(context, id)).toMatchObject({ status: 'requires_action' });
    expect(await shopper(outcome.redirectUrl, 'approve')).toBe(302);
    const approved = await paypal.retrieve(context, id);
    expect(approved).toMatchObject({ status: 'requires_action', approved: true });
    expect(await capturesFor(h, id)).toHaveLength(0);

    const completed = await paypal.complete(context, id, 'automatic');
    expect(completed).toMatchObject({ status: 'succeeded', charge: { amountCaptured: 1000 } });
    // Twice (a retried return hop): the same answer, still one capture.
    expect(await paypal.complete(context, id, 'automatic')).toEqual(completed);
    // Another attempt's key on the same order: PayPal refuses, the order's state answers.
    expect(await paypal.complete(attempt(), id, 'automatic')).toMatchObject({ status: 'succeeded' });
    expect(await capturesFor(h, id)).toHaveLength(1);
  });

  it('a shopper who cancels leaves nothing to complete and nothing charged; cancel needs no call', async () => {
    const { context, id } = await created(paypal);
    const outcome = await paypal.confirm(context, id, WALLET, `${RETURN_URL}?x=1`);
    if (outcome.status !== 'requires_action') throw new Error(`unexpected ${outcome.status}`);
    expect(await shopper(outcome.redirectUrl, 'fail')).toBe(302);
    expect(await paypal.complete(context, id, 'automatic')).toMatchObject({ status: 'requires_action' });
    expect(await paypal.retrieve(context, id)).not.toMatchObject({ approved: true });
    expect(await paypal.cancel(context, id)).toEqual({ status: 'canceled', providerPaymentId: id });
    expect(await capturesFor(h, id)).toHaveLength(0);
  });

  it('an order never confirmed reads unknown+unconfirmed, and cancels without a call', async () => {
    const { context, id } = await created(paypal);
    expect(await paypal.retrieve(context, id)).toMatchObject({ status: 'unknown', unconfirmed: true });
    const spy = vi.spyOn(globalThis, 'fetch');
    expect(await paypal.cancel(context, id)).toEqual({ status: 'canceled', providerPaymentId: id });
    const posts = spy.mock.calls.filter(([, init]) => (init as RequestInit | undefined)?.method === 'POST');
    expect(posts).toHaveLength(0);
  });
});

describe('authorize, capture, void', () => {
  it('manual: requires_capture, then a partial capture succeeds', async () => {
    const { context, id } = await created(paypal, { captureMethod: 'manual' });
    const authorized = await paypal.confirm(context, id, VISA, RETURN_URL);
    expect(authorized).toMatchObject({
      status: 'requires_capture',
      charge: { amount: 1000, amountCaptured: 0, cardLast4: '4242' },
    });
    expect(await paypal.retrieve(context, id)).toEqual(authorized);
    const captured = await paypal.capture(context, id, 600);
    expect(captured).toMatchObject({ status: 'succeeded', charge: { amount: 1000, amountCaptured: 600 } });
    if (captured.status !== 'succeeded') throw new Error('unreachable');
    expect(captured.charge.fee).toBeGreaterThan(0);
    expect(await paypal.retrieve(context, id)).toMatchObject({
      status: 'succeeded',
      charge: { amountCaptured: 600 },
    });
    expect(await capturesFor(h, id)).toHaveLength(1);
  });

  it('manual wallet: approved, complete authorizes (requires_capture)', async () => {
    const { context, id } = await created(paypal, { captureMethod: 'manual' });
    const outcome = await paypal.confirm(context, id, WALLET, RETURN_URL);
    if (outcome.status !== 'requires_action') throw new Error(`unexpected ${outcome.status}`);
    await shopper(outcome.redirectUrl, 'approve');
    expect(await paypal.complete(context, id, 'manual')).toMatchObject({ status: 'requires_capture' });
  });

  it('cancel voids the authorization', async () => {
    const { context, id } = await created(paypal, { captureMethod: 'manual' });
    await paypal.confirm(context, id, VISA, RETURN_URL);
    expect(await paypal.cancel(context, id)).toEqual({ status: 'canceled', providerPaymentId: id });
    const auth = (await h.state('authorizations')).authorizations.find(
      (a) => (a['supplementary_data'] as { related_ids: { order_id: string } }).related_ids.order_id === id,
    );
    expect(auth?.['status']).toBe('VOIDED');
    expect(await paypal.retrieve(context, id)).toMatchObject({ status: 'canceled' });
  });

  it('cancel of a captured order answers its real state (succeeded)', async () => {
    const { context, id } = await created(paypal);
    await paypal.confirm(context, id, VISA, RETURN_URL);
    expect(await paypal.cancel(context, id)).toMatchObject({ status: 'succeeded' });
  });
});

describe('refunds', () => {
  it('partial, then the rest, then an over-refund fails', async () => {
    const { context, id } = await created(paypal);
    await paypal.confirm(context, id, VISA, RETURN_URL);
    const first = await paypal.refund({ ...context, refundId: 're_one' }, id, 400);
    expect(first).toMatchObject({ status: 'succeeded', providerRefundId: expect.any(String) });
    const rest = await paypal.refund({ ...context, refundId: 're_two' }, id, 600);
    expect(rest).toMatchObject({ status: 'succeeded' });
    const refunds = (await h.state('refunds')).refunds.filter((r) =>
      ['re_one', 're_two'].includes(String(r['custom_id'])),
    );
    expect(refunds.map((r) => (r['amount'] as { value: string }).value).sort()).toEqual(['4.00', '6.00']);
    // The same refund again replays; a new one over the captured amount fails.
    expect(await paypal.refund({ ...context, refundId: 're_one' }, id, 400)).toEqual(first);
    expect(await paypal.refund({ ...context, refundId: 're_three' }, id, 1)).toMatchObject({
      status: 'failed',
      code: 'capture_fully_refunded',
    });
  });

  it('an over-refund of a partly refunded capture fails with PayPal issue', async () => {
    const { context, id } = await created(paypal);
    await paypal.confirm(context, id, VISA, RETURN_URL);
    expect(await paypal.refund({ ...context, refundId: 're_a' }, id, 1001)).toMatchObject({
      status: 'failed',
      code: 'refund_amount_exceeded',
    });
  });

  it('an order without a capture has nothing to refund', async () => {
    const { context, id } = await created(paypal);
    expect(await paypal.refund({ ...context, refundId: 're_none' }, id, 100)).toMatchObject({
      status: 'failed',
      code: 'charge_not_captured',
    });
  });
});

describe('currencies', () => {
  it('sends JPY as whole units', async () => {
    const { context, id } = await created(paypal, { currency: 'jpy', amount: 1000 });
    const order = (await h.state('orders')).orders.find((o) => o.id === id);
    expect((order!['purchase_units'] as { amount: unknown }[])[0]?.amount).toEqual({
      currency_code: 'JPY',
      value: '1000',
    });
    expect(await paypal.confirm(context, id, VISA, RETURN_URL)).toMatchObject({
      status: 'succeeded',
      charge: { amount: 1000, amountCaptured: 1000 },
    });
  });

  it('refuses KWD (and HUF with decimals) before any call: no_charge invalid_request', async () => {
    const spy = vi.spyOn(globalThis, 'fetch');
    expect(
      await paypal.createPayment(paymentRequest(attempt(), { currency: 'kwd', amount: 5000 })),
    ).toMatchObject({ status: 'no_charge', reason: 'invalid_request' });
    expect(
      await paypal.createPayment(paymentRequest(attempt(), { currency: 'huf', amount: 17550 })),
    ).toMatchObject({ status: 'no_charge', reason: 'invalid_request' });
    expect(spy).not.toHaveBeenCalled();
  });
});

/** A loopback port nothing listens on: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('faults', () => {
  it('a refused connection is no_charge connection_refused', async () => {
    const down = h.connector({ apiBase: `http://127.0.0.1:${await closedPort()}` });
    expect(await down.createPayment(paymentRequest(attempt()))).toMatchObject({
      status: 'no_charge',
      reason: 'connection_refused',
    });
    expect(await down.confirm(attempt(), 'ORDER', WALLET, RETURN_URL)).toMatchObject({
      status: 'no_charge',
      reason: 'connection_refused',
    });
  });

  it("the emulator's refuse mode cuts the connection after the request was sent: unknown, nothing charged", async () => {
    const { context, id } = await created(paypal);
    await h.fault({ mode: 'refuse' });
    expect(await paypal.confirm(context, id, VISA, RETURN_URL)).toMatchObject({
      status: 'unknown',
      providerPaymentId: id,
    });
    await h.control.delete('/_emulator/faults');
    expect(await capturesFor(h, id)).toHaveLength(0);
  });

  it('a 500 is unknown', async () => {
    const { context, id } = await created(paypal);
    await h.fault({ error_rate: 1, status: 500 });
    expect(await paypal.confirm(context, id, VISA, RETURN_URL)).toMatchObject({
      status: 'unknown',
      providerPaymentId: id,
    });
  });

  it('a 429 is no_charge rate_limited', async () => {
    const { context, id } = await created(paypal);
    await h.fault({ error_rate: 1, status: 429 });
    const outcome = await paypal.confirm(context, id, VISA, RETURN_URL);
    expect(outcome).toMatchObject({ status: 'no_charge', reason: 'rate_limited' });
  });

  it('wrong credentials are no_charge authentication', async () => {
    const wrong = h.connector({ clientId: 'live-not-accepted-by-the-sandbox' });
    expect(await wrong.createPayment(paymentRequest(attempt()))).toMatchObject({
      status: 'no_charge',
      reason: 'authentication',
    });
  });

  it('a 401 on a call retries once with a fresh token', async () => {
    const fresh = h.connector();
    await fresh.createPayment(paymentRequest(attempt()));
    await h.fault({ error_rate: 1, status: 401 });
    const spy = vi.spyOn(globalThis, 'fetch');
    expect(await fresh.createPayment(paymentRequest(attempt()))).toMatchObject({
      status: 'no_charge',
      reason: 'authentication',
    });
    // The 401 dropped the cached token; the fault answers the token endpoint with 401 too.
    expect(spy.mock.calls.filter(([url]) => String(url).endsWith('/v2/checkout/orders'))).toHaveLength(1);
    expect(tokenRequests(spy)).toBe(1);
  });

  it('a deadline after the call was sent is unknown', async () => {
    const slow = h.connector({ timeoutMs: 300 });
    const { context, id } = await created(slow);
    await slow.checkCardEligibility();
    await h.fault({ latency_ms: 2_000 });
    expect(await slow.confirm(context, id, VISA, RETURN_URL)).toMatchObject({
      status: 'unknown',
      providerPaymentId: id,
    });
  });

  it('a deadline while fetching the token proves no charge (the call itself was never sent)', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const silent = createServer(() => {});
    silent.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as { port: number };
      const slow = h.connector({ apiBase: `http://127.0.0.1:${port}`, timeoutMs: 300 });
      expect(await slow.createPayment(paymentRequest(attempt()))).toMatchObject({
        status: 'no_charge',
        reason: 'authentication',
        message: expect.stringContaining('OAuth token'),
      });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('drop_after_charge on capture: unknown, then retrieve settles it as succeeded with one capture', async () => {
    const { context, id } = await created(paypal, { captureMethod: 'manual' });
    await paypal.confirm(context, id, VISA, RETURN_URL);
    await h.fault({ mode: 'drop_after_charge' });
    expect(await paypal.capture(context, id, 1000)).toMatchObject({
      status: 'unknown',
      providerPaymentId: id,
    });
    await h.control.delete('/_emulator/faults');
    expect(await paypal.retrieve(context, id)).toMatchObject({
      status: 'succeeded',
      charge: { amountCaptured: 1000 },
    });
    expect(await capturesFor(h, id)).toHaveLength(1);
  });

  it('drop_after_charge on a card confirm: unknown, retrieve says succeeded', async () => {
    const { context, id } = await created(paypal);
    await h.fault({ mode: 'drop_after_charge' });
    expect(await paypal.confirm(context, id, VISA, RETURN_URL)).toMatchObject({ status: 'unknown' });
    await h.control.delete('/_emulator/faults');
    expect(await paypal.retrieve(context, id)).toMatchObject({ status: 'succeeded' });
    expect(await capturesFor(h, id)).toHaveLength(1);
  });

  it('the ACDC check that cannot run leaves cards off', async () => {
    const down = h.connector({ apiBase: `http://127.0.0.1:${await closedPort()}` });
    expect(await down.checkCardEligibility()).toMatchObject({
      enabled: false,
      reason: expect.stringMatching(/failed/),
    });
    expect(down.cardsEnabled).toBe(false);
  });
});
