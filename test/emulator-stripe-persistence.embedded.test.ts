// The Stripe emulator keeps its records in a data folder: a restart (in process, or of the standalone
// `payctl emulator stripe`) finds payments, refunds, disputes, events and idempotent replays again.
import { existsSync } from 'node:fs';
import path from 'node:path';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { startHarness, TEST_KEY, tempDataDir } from './emulator-support.js';
import { spawnPayctl } from './support/processes.js';

describe('persistence', () => {
  it('a restart with the same data folder keeps every object and idempotent replays', async () => {
    const dataDir = tempDataDir();
    const first = await startHarness({ dataDir });
    const paid = await first.stripe.paymentIntents.create(
      {
        amount: 4200,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        capture_method: 'automatic',
      },
      { idempotencyKey: 'persist-paid' },
    );
    const firstAnswer = await first.api.post(
      '/v1/payment_intents',
      {
        amount: 4200,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        capture_method: 'automatic',
      },
      { headers: { 'idempotency-key': 'persist-paid' } },
    );
    const refund = await first.stripe.refunds.create({ payment_intent: paid.id, amount: 200 });
    const held = await first.stripe.paymentIntents.create({
      amount: 900,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      capture_method: 'manual',
    });
    const disputed = await first.stripe.paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      payment_method: 'pm_card_createDispute',
      confirm: true,
    });
    const dispute = (await first.stripe.disputes.list({ payment_intent: disputed.id })).data[0]!;
    const eventsBefore = (await first.stripe.events.list({ limit: 100 })).data.map((e) => e.id);
    await first.emulator.close();
    expect(existsSync(path.join(dataDir, 'stripe-emulator.jsonl'))).toBe(true);

    const second = await startHarness({ dataDir });
    try {
      expect(await second.stripe.paymentIntents.retrieve(paid.id)).toMatchObject({
        status: 'succeeded',
        amount_received: 4200,
      });
      expect(await second.stripe.charges.retrieve(paid.latest_charge as string)).toMatchObject({
        amount_refunded: 200,
      });
      expect((await second.stripe.refunds.retrieve(refund.id)).amount).toBe(200);
      expect((await second.stripe.disputes.retrieve(dispute.id)).status).toBe('needs_response');
      expect((await second.stripe.events.list({ limit: 100 })).data.map((e) => e.id)).toEqual(eventsBefore);

      const replay = await second.api.post(
        '/v1/payment_intents',
        {
          amount: 4200,
          currency: 'usd',
          payment_method: 'pm_card_visa',
          confirm: true,
          capture_method: 'automatic',
        },
        { headers: { 'idempotency-key': 'persist-paid' } },
      );
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.body).toEqual(firstAnswer.body);

      // Work continues where it stopped: the held authorization can be captured, new objects list first.
      expect((await second.stripe.paymentIntents.capture(held.id)).status).toBe('succeeded');
      const fresh = await second.stripe.paymentIntents.create({ amount: 100, currency: 'usd' });
      const listed = await second.stripe.paymentIntents.list({ limit: 3 });
      expect(listed.data[0]!.id).toBe(fresh.id);
      expect(listed.data.map((p) => p.id)).toContain(disputed.id);
    } finally {
      await second.emulator.close();
    }
    const third = await startHarness({ dataDir });
    try {
      expect((await third.stripe.paymentIntents.retrieve(held.id)).status).toBe('succeeded');
    } finally {
      await third.emulator.close();
    }
  });

  it('payctl emulator stripe runs standalone and keeps its state across a restart', async () => {
    const dataDir = tempDataDir();
    const start = async () => {
      const running = spawnPayctl(['emulator', 'stripe', '--port', '0', '--data-dir', dataDir], {
        LOG_LEVEL: 'warn',
      });
      await running.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+/);
      const port = Number(/127\.0\.0\.1:(\d+)/.exec(running.output())![1]);
      const stripe = new Stripe(TEST_KEY, {
        host: '127.0.0.1',
        port,
        protocol: 'http',
        maxNetworkRetries: 0,
      });
      return { running, stripe };
    };
    const first = await start();
    const pi = await first.stripe.paymentIntents.create({
      amount: 1500,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
    });
    first.running.child.kill('SIGTERM');
    expect((await first.running.exited).code).toBe(0);

    const second = await start();
    try {
      expect((await second.stripe.paymentIntents.retrieve(pi.id)).status).toBe('succeeded');
    } finally {
      second.running.child.kill('SIGTERM');
      await second.running.exited;
    }
  });
});
