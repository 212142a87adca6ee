// The Stripe connector under the emulator's faults, over real HTTP: which failures prove no charge
// (and so allow a fallback) and which leave the outcome unknown until a read settles it, with exactly
// one charge in the emulator whatever happened on the wire.
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { retryAfterMs } from '../src/providers/stripe/stripe.errors.js';
import type { StripeProvider } from '../src/providers/stripe/stripe.provider.js';
import { type EmulatorHarness, startHarness } from './emulator-support.js';
import { attempt, card, chargesFor, connector, created, paymentRequest } from './stripe-connector-support.js';

let h: EmulatorHarness;
let stripe: StripeProvider;
beforeAll(async () => {
  h = await startHarness();
  stripe = connector(h);
});
afterEach(async () => {
  await h.control.delete('/_emulator/faults');
});
afterAll(async () => {
  await h.emulator.close();
});

const fault = (body: Record<string, unknown>) => h.control.post('/_emulator/faults', body, { as: 'json' });
const VISA = card('4242424242424242');

/** A loopback port nothing listens on: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('failures that prove no charge', () => {
  it('a refused connection is no_charge connection_refused', async () => {
    const down = connector(h, { apiBase: `http://127.0.0.1:${await closedPort()}` });
    const context = attempt();
    expect(await down.createPayment(paymentRequest(context))).toMatchObject({
      status: 'no_charge',
      reason: 'connection_refused',
    });
    expect(await down.confirm(context, 'pi_anything', VISA)).toMatchObject({
      status: 'no_charge',
      reason: 'connection_refused',
    });
  });

  it('an unknown host is no_charge dns', async () => {
    const nowhere = connector(h, { apiBase: 'http://stripe-connector-test.invalid:80' });
    expect(await nowhere.createPayment(paymentRequest(attempt()))).toMatchObject({
      status: 'no_charge',
      reason: 'dns',
    });
  });

  it("the emulator's refuse mode resets after the request was sent: unknown, and indeed nothing charged", async () => {
    // `refuse` accepts the connection and cuts it once the request has arrived. From the client's side
    // that is a reset after sending, which may follow a charge, so it cannot count as proof of none.
    const { context, id } = await created(stripe);
    await fault({ mode: 'refuse' });
    expect(await stripe.confirm(context, id, VISA)).toMatchObject({
      status: 'unknown',
      providerPaymentId: id,
    });
    expect(await chargesFor(h, id)).toHaveLength(0);
  });

  it('a wrong key is no_charge authentication (401)', async () => {
    const { context, id } = await created(stripe);
    const wrongKey = connector(h, { secretKey: 'sk_live_not_accepted_by_the_sandbox' });
    expect(await wrongKey.confirm(context, id, VISA)).toMatchObject({
      status: 'no_charge',
      reason: 'authentication',
    });
    expect(await chargesFor(h, id)).toHaveLength(0);
  });

  it('a 429 is no_charge rate_limited', async () => {
    const { context, id } = await created(stripe);
    await fault({ error_rate: 1, status: 429 });
    expect(await stripe.confirm(context, id, VISA)).toMatchObject({
      status: 'no_charge',
      reason: 'rate_limited',
    });
    expect(await chargesFor(h, id)).toHaveLength(0);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs({ 'retry-after': '2' }, now)).toBe(2000);
    expect(retryAfterMs({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }, now)).toBe(5000);
    expect(retryAfterMs({}, now)).toBeUndefined();
  });
});

describe('failures after the request was sent are unknown until a read settles them', () => {
  it('drop_after_charge: unknown, then retrieve shows the one charge', async () => {
    const { context, id } = await created(stripe);
    await fault({ mode: 'drop_after_charge' });
    const outcome = await stripe.confirm(context, id, VISA);
    expect(outcome).toMatchObject({ status: 'unknown', providerPaymentId: id });
    // GETs charge nothing and are answered even under the fault.
    expect(await stripe.retrieve(context, id)).toMatchObject({
      status: 'succeeded',
      charge: { amount: 1000 },
    });
    expect(await chargesFor(h, id)).toHaveLength(1);
  });

  it('error_after_charge: unknown (a 500), then retrieve settles it', async () => {
    const { context, id } = await created(stripe);
    await fault({ mode: 'error_after_charge' });
    expect(await stripe.confirm(context, id, VISA)).toMatchObject({
      status: 'unknown',
      providerPaymentId: id,
    });
    await h.control.delete('/_emulator/faults');
    expect(await stripe.retrieve(context, id)).toMatchObject({ status: 'succeeded' });
    expect(await chargesFor(h, id)).toHaveLength(1);
  });

  it('a 5xx before anything ran is still unknown from our side', async () => {
    const { context, id } = await created(stripe);
    await fault({ error_rate: 1, status: 503 });
    expect(await stripe.confirm(context, id, VISA)).toMatchObject({ status: 'unknown' });
  });

  it('hang: unknown once the per-call timeout passes', async () => {
    const { context, id } = await created(stripe);
    const quick = connector(h, { timeoutMs: 300 });
    await fault({ mode: 'hang' });
    const started = Date.now();
    expect(await quick.confirm(context, id, VISA)).toMatchObject({
      status: 'unknown',
      providerPaymentId: id,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('latency beyond the timeout: unknown, though the charge went through', async () => {
    const { context, id } = await created(stripe);
    const quick = connector(h, { timeoutMs: 300 });
    await fault({ latency_ms: 700 });
    expect(await quick.confirm(context, id, VISA)).toMatchObject({ status: 'unknown' });
    await h.control.delete('/_emulator/faults');
    // The request waited out the latency and executed: the read-back finds it.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await stripe.retrieve(context, id)).toMatchObject({ status: 'succeeded' });
    expect(await chargesFor(h, id)).toHaveLength(1);
  });

  it('replaying the confirm after the fault clears answers from the first execution, not a second charge', async () => {
    const { context, id } = await created(stripe);
    await fault({ mode: 'drop_after_charge' });
    expect((await stripe.confirm(context, id, VISA)).status).toBe('unknown');
    await h.control.delete('/_emulator/faults');
    expect(await stripe.confirm(context, id, VISA)).toMatchObject({ status: 'succeeded' });
    expect(await chargesFor(h, id)).toHaveLength(1);
  });
});
