// The PayPal emulator over real HTTP: OAuth, orders with PayPal-Request-Id, the approval page, captures
// and declines per sandbox card, authorizations, refunds, currencies and disputes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLIENT_ID,
  card,
  order,
  type PayPalHarness,
  paypalWallet,
  startPayPalHarness,
} from './emulator-paypal-support.js';

let h: PayPalHarness;
beforeAll(async () => {
  h = await startPayPalHarness();
});
afterAll(async () => {
  await h.emulator.close();
});

async function approvedCardOrder(number: string, extra: Record<string, unknown> = {}) {
  const created = await h.call('POST', '/v2/checkout/orders', {
    body: order('10.00', 'USD', { payment_source: card(number), ...extra }),
  });
  expect(created.status).toBe(201);
  return created.body;
}

describe('oauth', () => {
  it('issues a Bearer token for any sandbox client and refuses live client ids', async () => {
    const reply = await fetch(`${h.emulator.url}/v1/oauth2/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${CLIENT_ID}:x`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    const body = (await reply.json()) as Record<string, unknown>;
    expect(reply.status).toBe(200);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 32400 });
    expect(typeof body['access_token']).toBe('string');
    await expect(h.token('live-client', 'secret')).rejects.toThrow(/401.*invalid_client/);
    const noAuth = await h.call('GET', '/v2/checkout/orders/NOPE', { token: null });
    expect(noAuth.status).toBe(401);
    expect(noAuth.body).toMatchObject({ error: 'invalid_token' });
  });

  it('expires tokens on the emulator clock', async () => {
    const token = await h.token('expiring-client', 'secret');
    const created = await h.call('POST', '/v2/checkout/orders', { body: order(), token });
    expect(created.status).toBe(201);
    h.clock.advance(32_401_000);
    const after = await h.call('GET', `/v2/checkout/orders/${created.body.id}`, { token });
    expect(after.status).toBe(401);
    const fresh = await h.call('GET', `/v2/checkout/orders/${created.body.id}`, {
      token: await h.token('expiring-client', 'secret'),
    });
    expect(fresh.status).toBe(200);
  });

  it('scopes objects to the account: another client gets 404', async () => {
    const created = await h.call('POST', '/v2/checkout/orders', { body: order() });
    const other = await h.call('GET', `/v2/checkout/orders/${created.body.id}`, {
      token: await h.token('other', 'x'),
    });
    expect(other.status).toBe(404);
    expect(other.body).toMatchObject({
      name: 'RESOURCE_NOT_FOUND',
      details: [{ issue: 'INVALID_RESOURCE_ID' }],
    });
  });
});

describe('orders and PayPal-Request-Id', () => {
  it('creates an order with approve link and replays the same answer for the same request id', async () => {
    const first = await h.call('POST', '/v2/checkout/orders', { body: order(), requestId: 'create-1' });
    const second = await h.call('POST', '/v2/checkout/orders', { body: order(), requestId: 'create-1' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ intent: 'CAPTURE', status: 'CREATED' });
    expect(first.body.links.map((l: { rel: string }) => l.rel)).toContain('approve');
    expect(second.text).toBe(first.text);
    const state = await h.state('orders');
    expect(state.orders.filter((o: { id: string }) => o.id === first.body.id)).toHaveLength(1);
  });

  it('executes concurrent requests with one request id once', async () => {
    await h.control('POST', '/_emulator/faults', { latency_ms: 200 });
    const before = (await h.state('orders')).counts.orders;
    const replies = await Promise.all(
      [1, 2, 3].map(() =>
        h.call('POST', '/v2/checkout/orders', { body: order(), requestId: 'concurrent-1' }),
      ),
    );
    await h.control('DELETE', '/_emulator/faults');
    expect(new Set(replies.map((r) => r.body.id)).size).toBe(1);
    expect(replies.map((r) => r.status)).toEqual([201, 201, 201]);
    expect((await h.state('orders')).counts.orders).toBe(before + 1);
  });

  it('takes no decimals for JPY and refuses KWD', async () => {
    const jpy = await h.call('POST', '/v2/checkout/orders', { body: order('1000', 'JPY') });
    expect(jpy.status).toBe(201);
    expect(jpy.body.purchase_units[0].amount).toEqual({ currency_code: 'JPY', value: '1000' });
    const decimal = await h.call('POST', '/v2/checkout/orders', { body: order('1000.50', 'JPY') });
    expect(decimal.status).toBe(422);
    expect(decimal.body).toMatchObject({
      name: 'UNPROCESSABLE_ENTITY',
      details: [{ issue: 'DECIMAL_PRECISION' }],
    });
    expect(typeof decimal.body.debug_id).toBe('string');
    const kwd = await h.call('POST', '/v2/checkout/orders', { body: order('10.000', 'KWD') });
    expect(kwd.status).toBe(422);
    expect(kwd.body.details[0].issue).toBe('CURRENCY_NOT_SUPPORTED');
    const three = await h.call('POST', '/v2/checkout/orders', { body: order('10.001', 'USD') });
    expect(three.body.details[0].issue).toBe('DECIMAL_PRECISION');
  });
});

describe('approval page', () => {
  it('approves a PayPal payer and redirects to return_url with token and PayerID', async () => {
    const created = await h.call('POST', '/v2/checkout/orders', { body: order() });
    const confirmed = await h.call('POST', `/v2/checkout/orders/${created.body.id}/confirm-payment-source`, {
      body: { payment_source: paypalWallet },
      requestId: `confirm-${created.body.id}`,
    });
    expect(confirmed.body.status).toBe('PAYER_ACTION_REQUIRED');
    const payerAction = confirmed.body.links.find((l: { rel: string }) => l.rel === 'payer-action')
      .href as string;
    expect(payerAction).toBe(`${h.emulator.url}/checkoutnow?token=${created.body.id}`);
    const page = await fetch(payerAction);
    expect(await page.text()).toContain('action=approve');
    const notYet = await h.call('POST', `/v2/checkout/orders/${created.body.id}/capture`);
    expect(notYet.status).toBe(422);
    expect(notYet.body.details[0].issue).toBe('ORDER_NOT_APPROVED');
    const approve = await fetch(`${payerAction}&action=approve`, { redirect: 'manual' });
    expect(approve.status).toBe(302);
    const location = new URL(approve.headers.get('location')!);
    expect(location.origin + location.pathname).toBe('https://shop.example/return');
    expect(location.searchParams.get('token')).toBe(created.body.id);
    const got = await h.call('GET', `/v2/checkout/orders/${created.body.id}`);
    expect(got.body.status).toBe('APPROVED');
    expect(location.searchParams.get('PayerID')).toBe(got.body.payer.payer_id);
    const captured = await h.call('POST', `/v2/checkout/orders/${created.body.id}/capture`, {
      requestId: 'cap-wallet',
    });
    expect(captured.status).toBe(201);
    expect(captured.body.status).toBe('COMPLETED');
    expect(captured.body.purchase_units[0].payments.captures[0]).toMatchObject({
      status: 'COMPLETED',
      amount: { currency_code: 'USD', value: '10.00' },
      final_capture: true,
      seller_receivable_breakdown: { paypal_fee: { value: '0.84' }, net_amount: { value: '9.16' } },
      supplementary_data: { related_ids: { order_id: created.body.id } },
    });
  });

  it('fails to the cancel_url and leaves the order never approvable', async () => {
    const created = await h.call('POST', '/v2/checkout/orders', {
      body: order('5.00', 'USD', { payment_source: paypalWallet }),
    });
    expect(created.body.status).toBe('PAYER_ACTION_REQUIRED');
    const fail = await fetch(`${h.emulator.url}/checkoutnow?token=${created.body.id}&action=fail`, {
      redirect: 'manual',
    });
    expect(fail.status).toBe(302);
    expect(fail.headers.get('location')).toBe(`https://shop.example/cancel?token=${created.body.id}`);
    const later = await fetch(`${h.emulator.url}/checkoutnow?token=${created.body.id}&action=approve`, {
      redirect: 'manual',
    });
    expect(later.status).toBe(404);
    const got = await h.call('GET', `/v2/checkout/orders/${created.body.id}`);
    expect(got.body.status).toBe('PAYER_ACTION_REQUIRED');
    expect(
      (await h.call('POST', `/v2/checkout/orders/${created.body.id}/capture`)).body.details[0].issue,
    ).toBe('ORDER_NOT_APPROVED');
  });
});

describe('cards', () => {
  it('captures 4242 and refuses a second capture', async () => {
    const created = await approvedCardOrder('4242424242424242');
    expect(created.status).toBe('APPROVED');
    expect(created.payment_source.card).toEqual({
      name: 'Sandbox Payer',
      last_digits: '4242',
      expiry: '2030-12',
      brand: 'VISA',
      type: 'CREDIT',
    });
    const captured = await h.call('POST', `/v2/checkout/orders/${created.id}/capture`);
    expect(captured.body.purchase_units[0].payments.captures[0].status).toBe('COMPLETED');
    const again = await h.call('POST', `/v2/checkout/orders/${created.id}/capture`);
    expect(again.status).toBe(422);
    expect(again.body.details[0].issue).toBe('ORDER_ALREADY_CAPTURED');
    const state = JSON.stringify(await h.state());
    expect(state).not.toContain('4242424242424242');
  });

  it.each([
    ['4000000000000002', '0500'],
    ['4000000000009995', '5120'],
    ['4000000000000119', '8000'],
  ])('declines %s at capture with processor response %s', async (number, code) => {
    const created = await approvedCardOrder(number);
    const captured = await h.call('POST', `/v2/checkout/orders/${created.id}/capture`);
    expect(captured.status).toBe(201);
    const capture = captured.body.purchase_units[0].payments.captures[0];
    expect(capture.status).toBe('DECLINED');
    expect(capture.processor_response.response_code).toBe(code);
    expect(capture.seller_receivable_breakdown).toBeUndefined();
    const refund = await h.call('POST', `/v2/payments/captures/${capture.id}/refund`, { body: {} });
    expect(refund.status).toBe(422);
  });

  it('asks for payer action for the 3-D Secure card, then captures after approval', async () => {
    const created = await approvedCardOrder('4000002500003155');
    expect(created.status).toBe('PAYER_ACTION_REQUIRED');
    const href = created.links.find((l: { rel: string }) => l.rel === 'payer-action').href;
    const approve = await fetch(`${href}&action=approve`, { redirect: 'manual' });
    expect(approve.status).toBe(200);
    const captured = await h.call('POST', `/v2/checkout/orders/${created.id}/capture`);
    expect(captured.body.purchase_units[0].payments.captures[0].status).toBe('COMPLETED');
    expect(captured.body.payment_source.card.authentication_result.liability_shift).toBe('POSSIBLE');
  });

  it('refuses cards for an account without advanced card processing', async () => {
    const token = await h.token('merchant-noacdc', 'x');
    const refused = await h.call('POST', '/v2/checkout/orders', {
      body: order('10.00', 'USD', { payment_source: card('4242424242424242') }),
      token,
    });
    expect(refused.status).toBe(422);
    expect(refused.body.details[0].issue).toBe('PAYEE_NOT_ENABLED_FOR_CARD_PROCESSING');
    const integration = await h.call('GET', '/v1/customer/partners/P1/merchant-integrations/M1', { token });
    expect(integration.body.capabilities).toEqual([{ name: 'CUSTOM_CARD_PROCESSING', status: 'SUSPENDED' }]);
    const enabled = await h.call('GET', '/v1/customer/partners/P1/merchant-integrations/M1');
    expect(enabled.body.capabilities).toEqual([{ name: 'CUSTOM_CARD_PROCESSING', status: 'ACTIVE' }]);
    expect(enabled.body.products[0]).toMatchObject({ name: 'PPCP_CUSTOM', vetting_status: 'SUBSCRIBED' });
  });
});

describe('authorizations and refunds', () => {
  it('authorizes, captures part, voids the rest', async () => {
    const created = await approvedCardOrder('4242424242424242', { intent: 'AUTHORIZE' });
    const authorized = await h.call('POST', `/v2/checkout/orders/${created.id}/authorize`);
    expect(authorized.status).toBe(201);
    const auth = authorized.body.purchase_units[0].payments.authorizations[0];
    expect(auth).toMatchObject({ status: 'CREATED', amount: { value: '10.00' } });
    expect(Date.parse(auth.expiration_time)).toBeGreaterThan(Date.now());
    const part = await h.call('POST', `/v2/payments/authorizations/${auth.id}/capture`, {
      body: { amount: { currency_code: 'USD', value: '4.00' }, final_capture: false },
    });
    expect(part.status).toBe(201);
    expect(part.body).toMatchObject({ status: 'COMPLETED', amount: { value: '4.00' }, final_capture: false });
    expect(part.body.supplementary_data.related_ids).toEqual({
      order_id: created.id,
      authorization_id: auth.id,
    });
    const tooMuch = await h.call('POST', `/v2/payments/authorizations/${auth.id}/capture`, {
      body: { amount: { currency_code: 'USD', value: '6.01' } },
    });
    expect(tooMuch.body.details[0].issue).toBe('MAX_CAPTURE_AMOUNT_EXCEEDED');
    expect((await h.call('GET', `/v2/payments/authorizations/${auth.id}`)).body.status).toBe(
      'PARTIALLY_CAPTURED',
    );
    const voided = await h.call('POST', `/v2/payments/authorizations/${auth.id}/void`);
    expect(voided.status).toBe(204);
    expect((await h.call('GET', `/v2/payments/authorizations/${auth.id}`)).body.status).toBe('VOIDED');
    const afterVoid = await h.call('POST', `/v2/payments/authorizations/${auth.id}/capture`, { body: {} });
    expect(afterVoid.body.details[0].issue).toBe('AUTHORIZATION_VOIDED');
  });

  it('refunds in part and refuses refunds above what is left', async () => {
    const created = await approvedCardOrder('4242424242424242');
    const captured = await h.call('POST', `/v2/checkout/orders/${created.id}/capture`);
    const captureId = captured.body.purchase_units[0].payments.captures[0].id;
    const refund = await h.call('POST', `/v2/payments/captures/${captureId}/refund`, {
      body: { amount: { currency_code: 'USD', value: '7.50' }, note_to_payer: 'sorry' },
      requestId: 'refund-1',
    });
    expect(refund.status).toBe(201);
    expect(refund.body).toMatchObject({ status: 'COMPLETED', amount: { value: '7.50' } });
    const replay = await h.call('POST', `/v2/payments/captures/${captureId}/refund`, {
      body: { amount: { currency_code: 'USD', value: '7.50' } },
      requestId: 'refund-1',
    });
    expect(replay.body.id).toBe(refund.body.id);
    const over = await h.call('POST', `/v2/payments/captures/${captureId}/refund`, {
      body: { amount: { currency_code: 'USD', value: '2.51' } },
    });
    expect(over.status).toBe(422);
    expect(over.body.details[0].issue).toBe('REFUND_AMOUNT_EXCEEDED');
    expect((await h.call('GET', `/v2/payments/captures/${captureId}`)).body.status).toBe(
      'PARTIALLY_REFUNDED',
    );
    expect((await h.call('GET', `/v2/payments/refunds/${refund.body.id}`)).body.id).toBe(refund.body.id);
  });
});

describe('disputes', () => {
  async function disputedCapture(card = '4000000000000259') {
    const created = await approvedCardOrder(card);
    const captured = await h.call('POST', `/v2/checkout/orders/${created.id}/capture`);
    const captureId = captured.body.purchase_units[0].payments.captures[0].id as string;
    expect(captured.body.purchase_units[0].payments.captures[0].status).toBe('COMPLETED');
    const list = await h.call('GET', `/v1/customer/disputes?disputed_transaction_id=${captureId}`);
    expect(list.body.items).toHaveLength(1);
    return list.body.items[0].dispute_id as string;
  }

  it('opens a chargeback on the dispute card and decides it by the evidence', async () => {
    const won = await disputedCapture();
    const open = await h.call('GET', `/v1/customer/disputes/${won}`);
    expect(open.body).toMatchObject({
      status: 'WAITING_FOR_SELLER_RESPONSE',
      dispute_life_cycle_stage: 'CHARGEBACK',
      dispute_amount: { value: '10.00' },
    });
    const evidence = await h.call('POST', `/v1/customer/disputes/${won}/provide-evidence`, {
      body: { evidences: [{ evidence_type: 'PROOF_OF_FULFILLMENT', notes: 'winning_evidence' }] },
    });
    expect(evidence.status).toBe(200);
    expect((await h.call('GET', `/v1/customer/disputes/${won}`)).body).toMatchObject({
      status: 'RESOLVED',
      dispute_outcome: { outcome_code: 'RESOLVED_SELLER_FAVOUR' },
    });
    const lost = await disputedCapture();
    await h.call('POST', `/v1/customer/disputes/${lost}/provide-evidence`, {
      body: { notes: 'losing_evidence' },
    });
    expect((await h.call('GET', `/v1/customer/disputes/${lost}`)).body.dispute_outcome.outcome_code).toBe(
      'RESOLVED_BUYER_FAVOUR',
    );
    const accepted = await disputedCapture();
    await h.call('POST', `/v1/customer/disputes/${accepted}/accept-claim`, { body: { note: 'ok' } });
    expect((await h.call('GET', `/v1/customer/disputes/${accepted}`)).body.dispute_outcome.outcome_code).toBe(
      'RESOLVED_BUYER_FAVOUR',
    );
  });

  it('opens an inquiry on the inquiry card; losing evidence escalates it to a chargeback', async () => {
    const won = await disputedCapture('4000000000001976');
    expect((await h.call('GET', `/v1/customer/disputes/${won}`)).body).toMatchObject({
      status: 'WAITING_FOR_SELLER_RESPONSE',
      dispute_life_cycle_stage: 'INQUIRY',
    });
    await h.call('POST', `/v1/customer/disputes/${won}/provide-evidence`, {
      body: { notes: 'winning_evidence' },
    });
    expect((await h.call('GET', `/v1/customer/disputes/${won}`)).body).toMatchObject({
      status: 'RESOLVED',
      dispute_life_cycle_stage: 'INQUIRY',
      dispute_outcome: { outcome_code: 'RESOLVED_SELLER_FAVOUR' },
    });
    const escalated = await disputedCapture('4000000000001976');
    await h.call('POST', `/v1/customer/disputes/${escalated}/provide-evidence`, {
      body: { notes: 'losing_evidence' },
    });
    const after = (await h.call('GET', `/v1/customer/disputes/${escalated}`)).body;
    expect(after).toMatchObject({
      status: 'WAITING_FOR_SELLER_RESPONSE',
      dispute_life_cycle_stage: 'CHARGEBACK',
    });
    expect(after.dispute_outcome).toBeUndefined();
  });
});
