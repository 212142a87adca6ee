// The PayPal emulator's faults, persistence across a restart, and transaction search's real limits
// (31-day window, delayed rows, 10,000 rows at most, 500 per page).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AdjustableClock } from '../src/clock.js';
import { visibleAt } from '../src/emulators/paypal/reporting.js';
import {
  card,
  order,
  type PayPalHarness,
  startPayPalHarness,
  tempDataDir,
} from './emulator-paypal-support.js';

let h: PayPalHarness;
beforeAll(async () => {
  h = await startPayPalHarness();
});
afterEach(async () => {
  await h.control('DELETE', '/_emulator/faults');
});
afterAll(async () => {
  await h.emulator.close();
});

async function approvedOrder(harness = h, value = '10.00') {
  const created = await harness.call('POST', '/v2/checkout/orders', {
    body: order(value, 'USD', { payment_source: card('4242424242424242') }),
  });
  expect(created.body.status).toBe('APPROVED');
  return created.body.id as string;
}

describe('faults', () => {
  it('refuse: the connection is closed before anything is done; control API still answers', async () => {
    const token = await h.token();
    await h.control('POST', '/_emulator/faults', { mode: 'refuse' });
    const before = (await h.state()).counts.orders;
    await expect(h.call('POST', '/v2/checkout/orders', { body: order(), token })).rejects.toThrow();
    expect((await h.state()).counts.orders).toBe(before);
  });

  it('drop_after_charge: the capture happens, the answer is lost, GET shows it and a replay is dropped too', async () => {
    const id = await approvedOrder();
    const token = await h.token();
    await h.control('POST', '/_emulator/faults', { mode: 'drop_after_charge' });
    await expect(
      h.call('POST', `/v2/checkout/orders/${id}/capture`, { token, requestId: `cap-${id}` }),
    ).rejects.toThrow();
    const got = await h.call('GET', `/v2/checkout/orders/${id}`, { token });
    expect(got.status).toBe(200);
    expect(got.body.status).toBe('COMPLETED');
    expect(got.body.purchase_units[0].payments.captures[0].status).toBe('COMPLETED');
    await expect(
      h.call('POST', `/v2/checkout/orders/${id}/capture`, { token, requestId: `cap-${id}` }),
    ).rejects.toThrow();
    await h.control('DELETE', '/_emulator/faults');
    const replay = await h.call('POST', `/v2/checkout/orders/${id}/capture`, {
      token,
      requestId: `cap-${id}`,
    });
    expect(replay.status).toBe(201);
    expect(replay.body.purchase_units[0].payments.captures[0].id).toBe(
      got.body.purchase_units[0].payments.captures[0].id,
    );
    const state = await h.state('captures');
    expect(
      state.captures.filter(
        (c: { supplementary_data: { related_ids: { order_id: string } } }) =>
          c.supplementary_data.related_ids.order_id === id,
      ),
    ).toHaveLength(1);
  });

  it('error_after_charge answers 500 in PayPal shape after capturing; error_rate answers before', async () => {
    const id = await approvedOrder();
    await h.control('POST', '/_emulator/faults', { mode: 'error_after_charge' });
    const reply = await h.call('POST', `/v2/checkout/orders/${id}/capture`);
    expect(reply.status).toBe(500);
    expect(reply.body).toMatchObject({ name: 'INTERNAL_SERVER_ERROR' });
    expect((await h.call('GET', `/v2/checkout/orders/${id}`)).body.status).toBe('COMPLETED');
    await h.control('POST', '/_emulator/faults', { error_rate: 1, status: 503 });
    const refused = await h.call('POST', '/v2/checkout/orders', { body: order() });
    expect(refused.status).toBe(503);
    expect(refused.body.name).toBe('SERVICE_UNAVAILABLE');
  });
});

describe('persistence', () => {
  it('keeps orders, captures, request-id replays, tokens and the signing certificate across a restart', async () => {
    const dataDir = tempDataDir();
    const clock = new AdjustableClock();
    const first = await startPayPalHarness({ dataDir }, clock);
    const token = await first.token();
    const id = await approvedOrder(first);
    const captured = await first.call('POST', `/v2/checkout/orders/${id}/capture`, {
      token,
      requestId: 'persist-cap',
    });
    const certPem = await (await fetch(first.emulator.certUrl)).text();
    const certName = first.emulator.certUrl.split('/').pop();
    await first.emulator.close();

    const second = await startPayPalHarness({ dataDir }, clock);
    try {
      expect(second.emulator.certUrl.split('/').pop()).toBe(certName);
      expect(await (await fetch(second.emulator.certUrl)).text()).toBe(certPem);
      const got = await second.call('GET', `/v2/checkout/orders/${id}`, { token });
      expect(got.status).toBe(200);
      expect(got.body.status).toBe('COMPLETED');
      const replay = await second.call('POST', `/v2/checkout/orders/${id}/capture`, {
        token,
        requestId: 'persist-cap',
      });
      expect(replay.text).toBe(captured.text);
      expect((await second.state()).counts.captures).toBe(1);
    } finally {
      await second.emulator.close();
    }
  });
});

describe('transaction search', () => {
  const window = (from: Date, days: number) => ({
    start_date: from.toISOString(),
    end_date: new Date(from.getTime() + days * 86_400_000).toISOString(),
  });
  const search = (harness: PayPalHarness, query: Record<string, string>) =>
    harness.call('GET', `/v1/reporting/transactions?${new URLSearchParams(query)}`);

  it('refuses windows over 31 days and pages over 500', async () => {
    const from = new Date(Date.now() - 40 * 86_400_000);
    const wide = await search(h, window(from, 32));
    expect(wide.status).toBe(400);
    expect(wide.body).toMatchObject({
      name: 'INVALID_REQUEST',
      details: [{ issue: 'Date range is greater than 31 days', field: 'start_date' }],
    });
    expect((await search(h, window(from, 31))).status).toBe(200);
    expect((await search(h, { ...window(from, 1), page_size: '501' })).status).toBe(400);
  });

  it('shows a transaction only after its delay on the emulator clock', async () => {
    const delayed = await startPayPalHarness({ reportingDelaySeconds: 3 * 3600 });
    try {
      const id = await approvedOrder(delayed);
      const captured = await delayed.call('POST', `/v2/checkout/orders/${id}/capture`);
      const captureId = captured.body.purchase_units[0].payments.captures[0].id;
      const query = { ...window(new Date(Date.now() - 86_400_000), 2), transaction_id: captureId };
      // The delay is fixed by the id (CRC32(id) mod 10,801 seconds: at most 3 h), so the test knows it.
      const due = visibleAt(
        captureId,
        Date.parse(captured.body.purchase_units[0].payments.captures[0].create_time),
        3 * 3600,
      );
      expect(due - Date.now()).toBeLessThanOrEqual(3 * 3600 * 1000 + 1000);
      const dueIn = due - delayed.clock.now().getTime();
      if (dueIn > 2000) {
        delayed.clock.advance(dueIn - 2000);
        expect((await search(delayed, query)).body.transaction_details).toEqual([]);
      }
      delayed.clock.advance(Math.max(0, due - delayed.clock.now().getTime()) + 1000);
      const later = await search(delayed, query);
      expect(later.body.transaction_details).toHaveLength(1);
      expect(later.body.transaction_details[0].transaction_info).toMatchObject({
        transaction_id: captureId,
        transaction_event_code: 'T0006',
        transaction_amount: { currency_code: 'USD', value: '10.00' },
        fee_amount: { value: '-0.84' },
        transaction_status: 'S',
        custom_field: 'attempt-1',
      });
    } finally {
      await delayed.emulator.close();
    }
  });

  it('answers RESULTSET_TOO_LARGE above 10,000 rows in the window', async () => {
    const big = await startPayPalHarness();
    try {
      const id = await approvedOrder(big, '200.00');
      const captured = await big.call('POST', `/v2/checkout/orders/${id}/capture`);
      const captureId = captured.body.purchase_units[0].payments.captures[0].id;
      const token = await big.token();
      // 1 capture + 10,000 refunds of 0.01 = 10,001 rows.
      for (let batch = 0; batch < 100; batch++) {
        await Promise.all(
          Array.from({ length: 100 }, () =>
            big.call('POST', `/v2/payments/captures/${captureId}/refund`, {
              body: { amount: { currency_code: 'USD', value: '0.01' } },
              token,
            }),
          ),
        );
      }
      const query = window(new Date(Date.now() - 86_400_000), 2);
      const tooLarge = await search(big, query);
      expect(tooLarge.status).toBe(400);
      expect(tooLarge.body.name).toBe('RESULTSET_TOO_LARGE');
      const one = await search(big, { ...query, transaction_id: captureId });
      expect(one.body.total_items).toBe(1);
    } finally {
      await big.emulator.close();
    }
  }, 120_000);
});
