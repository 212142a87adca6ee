// Outbound webhooks on the test clock: a receiver down for 30 simulated hours gets every event once it
// is back, on the ladder's schedule, with one webhook-id per delivery across retries, and each attempt
// logged with its status, latency and response excerpt; 429 Retry-After is honoured; 410 Gone disables
// the endpoint; an endpoint failing for 5 days is disabled; and during a secret rotation both secrets
// verify every delivery, afterwards only the new one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LADDER_SECONDS } from '../src/modules/webhooks-out/retry-ladder.js';
import { createMerchant, type TestService } from './support/service.js';
import { waitFor } from './support/wait.js';
import { type Receiver, startWebhookHarness } from './support/webhook-receiver.js';

let t: TestService;
let receiver: Receiver;
let close = async () => {};
beforeAll(async () => {
  ({ t, receiver, close } = await startWebhookHarness());
});
afterAll(() => close());

interface Delivery {
  id: string;
  status: string;
  attempts: number;
  next_attempt_at: number | null;
  event: string;
  attempt_log?: {
    at_ms: number;
    status_code: number | null;
    error: string | null;
    latency_ms: number;
    response_excerpt: string;
  }[];
}

const nowMs = () => t.service.clock.now().getTime();

async function advanceTo(ms: number) {
  const seconds = Math.max(1, Math.ceil((ms - nowMs()) / 1000) + 1);
  const reply = await t.api.post('/_test/clock', { advance_seconds: seconds });
  expect(reply.status).toBe(200);
}

async function deliveriesOf(endpoint: string): Promise<Delivery[]> {
  const reply = await t.admin.get<{ data: Delivery[] }>('/admin/webhook_deliveries', {
    endpoint,
    limit: 100,
  });
  expect(reply.status, reply.text).toBe(200);
  return reply.body.data;
}

const open = (d: Delivery) => d.status === 'pending' || d.status === 'failed';

/** Moves the clock to each next due attempt until `done`, waiting for every attempt to be made. */
async function drive(
  endpoint: string,
  done: (deliveries: Delivery[]) => boolean | Promise<boolean>,
  maxSteps = 200,
) {
  for (let step = 0; step < maxSteps; step++) {
    const attempts = async () => (await deliveriesOf(endpoint)).reduce((sum, d) => sum + d.attempts, 0);
    // Let whatever is due now be attempted before looking further ahead.
    await waitFor('due attempts', async () => {
      const list = await deliveriesOf(endpoint);
      return list.every((d) => !open(d) || (d.next_attempt_at ?? 0) * 1000 > nowMs() + 500) && list;
    });
    const list = await deliveriesOf(endpoint);
    if (await done(list)) return list;
    const due = list.filter(open).map((d) => (d.next_attempt_at as number) * 1000);
    if (due.length === 0) throw new Error('nothing left to attempt and not done');
    const before = await attempts();
    await advanceTo(Math.min(...due));
    await waitFor('the next attempt', async () => (await attempts()) > before);
  }
  throw new Error('drive: too many steps');
}

async function endpointFor(api: TestService['merchant'], path: string, events: string[] = ['*']) {
  const reply = await api.post<{ id: string; secret: string }>('/v1/webhook_endpoints', {
    url: `${receiver.url}/${path}`,
    enabled_events: events,
  });
  expect(reply.status, reply.text).toBe(200);
  return reply.body;
}

describe('retries on the test clock', () => {
  it('delivers every event after 30 simulated hours of 500s, on the ladder, with stable webhook-ids', async () => {
    const merchant = await createMerchant(t, 'Down for 30h');
    const endpoint = await endpointFor(merchant.api, 'down30');
    receiver.verifyWith = [endpoint.secret];
    const upAt = nowMs() + 30 * 3_600_000;
    // The answer after recovery is held 50 ms, so its logged latency has a floor to check.
    receiver.respond = (r) =>
      r.clockAt < upAt
        ? { status: 500, body: 'down for maintenance' }
        : { status: 200, body: `received ${r.id}`, delayMs: 50 };
    const start = receiver.received.length;
    for (let i = 0; i < 3; i++) await merchant.api.post('/v1/customers', { email: `down${i}@example.com` });

    const final = await drive(
      endpoint.id,
      (list) => list.length === 3 && list.every((d) => d.status === 'succeeded'),
    );
    const arrivals = receiver.received.slice(start);
    // Every delivery was verified with both libraries, and each event arrived under one webhook-id.
    expect(arrivals.every((a) => a.verified.every((v) => v.standard && v.stripe))).toBe(true);
    const idsByEvent = new Map<string, Set<string>>();
    for (const a of arrivals) idsByEvent.set(a.event.id, (idsByEvent.get(a.event.id) ?? new Set()).add(a.id));
    expect(idsByEvent.size).toBe(3);
    for (const ids of idsByEvent.values()) expect(ids.size).toBe(1);
    expect(new Set(arrivals.filter((a) => a.answered === 200).map((a) => a.event.id)).size).toBe(3);

    for (const delivery of final) {
      const detail = await t.admin.get<Delivery>(`/admin/webhook_deliveries/${delivery.id}`);
      const log = detail.body.attempt_log ?? [];
      // Immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h after the previous: the 8th lands between
      // 28.4 h and 34.7 h with the ladder's +-10% jitter, so it may still meet the receiver down, and
      // then the 9th (20 h on) is the one that gets through. Every attempt while down failed; the
      // first one after it came back succeeded and was the last.
      expect([8, 9]).toContain(log.length);
      const last = log[log.length - 1];
      expect(log.slice(0, -1).every((a) => a.status_code === 500 && a.at_ms < upAt)).toBe(true);
      expect(last?.status_code).toBe(200);
      expect(last?.at_ms).toBeGreaterThanOrEqual(upAt);
      // Each attempt is logged with the receiver's status, its latency and what the receiver answered.
      for (const attempt of log.slice(0, -1)) {
        expect(attempt).toMatchObject({ error: null, response_excerpt: 'down for maintenance' });
        expect(Number.isInteger(attempt.latency_ms) && attempt.latency_ms >= 0).toBe(true);
      }
      expect(last).toMatchObject({ error: null, response_excerpt: `received ${delivery.id}` });
      expect(last?.latency_ms).toBeGreaterThanOrEqual(45);
      expect(last?.latency_ms).toBeLessThan(15_000);
      for (let i = 1; i < log.length; i++) {
        const gap = (log[i]?.at_ms as number) - (log[i - 1]?.at_ms as number);
        const step = (LADDER_SECONDS[i - 1] as number) * 1000;
        expect(gap).toBeGreaterThanOrEqual(step * 0.9);
        expect(gap).toBeLessThanOrEqual(step * 1.1 + 3_000);
      }
    }
  });

  it('waits for Retry-After on a 429 when it is longer than the step', async () => {
    const merchant = await createMerchant(t, 'Rate limited');
    const endpoint = await endpointFor(merchant.api, 'limited');
    receiver.verifyWith = [endpoint.secret];
    let answered = 0;
    receiver.respond = () =>
      answered++ === 0
        ? { status: 429, headers: { 'retry-after': '3600' }, body: 'slow down' }
        : { status: 200 };
    await merchant.api.post('/v1/customers', { email: 'limited@example.com' });
    const [delivery] = await drive(
      endpoint.id,
      (list) => list.length === 1 && list[0]?.status === 'succeeded',
    );
    const detail = await t.admin.get<Delivery>(`/admin/webhook_deliveries/${delivery?.id}`);
    const [first, second] = detail.body.attempt_log ?? [];
    expect(first).toMatchObject({ status_code: 429, error: null, response_excerpt: 'slow down' });
    expect(second).toMatchObject({ status_code: 200, error: null, response_excerpt: 'ok' });
    expect(first?.latency_ms).toBeGreaterThanOrEqual(0);
    expect((second?.at_ms as number) - (first?.at_ms as number)).toBeGreaterThanOrEqual(3_600_000);
  });

  it('disables the endpoint on 410 Gone and stops delivering to it', async () => {
    const merchant = await createMerchant(t, 'Gone');
    const endpoint = await endpointFor(merchant.api, 'gone');
    receiver.respond = () => ({ status: 410 });
    const start = receiver.received.length;
    await merchant.api.post('/v1/customers', { email: 'gone@example.com' });
    await waitFor('the endpoint to be disabled', async () => {
      const reply = await merchant.api.get<{ status: string }>(`/v1/webhook_endpoints/${endpoint.id}`);
      return reply.body.status === 'disabled';
    });
    const [delivery] = await deliveriesOf(endpoint.id);
    expect(delivery).toMatchObject({ status: 'dead', attempts: 1 });
    receiver.respond = () => ({ status: 200 });
    await merchant.api.post('/v1/customers', { email: 'gone2@example.com' });
    await advanceTo(nowMs() + 60_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.received.length - start).toBe(1);
    expect(await deliveriesOf(endpoint.id)).toHaveLength(1);
    const events = await merchant.api.get<{ data: { type: string }[] }>('/v1/events', {
      type: 'webhook_endpoint.disabled',
    });
    expect(events.body.data).toHaveLength(1);
  });

  it('disables an endpoint whose every delivery failed for 5 days; dead letters are events, never sent to it', async () => {
    const merchant = await createMerchant(t, 'Failing for days');
    const endpoint = await endpointFor(merchant.api, 'failing');
    receiver.respond = () => ({ status: 503 });
    const start = receiver.received.length;
    const firstFailure = nowMs();
    await merchant.api.post('/v1/customers', { email: 'fail1@example.com' });
    // The first delivery exhausts the ladder (about 3.2 days) and is dead: still enabled.
    await drive(endpoint.id, (list) => list.every((d) => d.status === 'dead'));
    const mid = await merchant.api.get<{ status: string }>(`/v1/webhook_endpoints/${endpoint.id}`);
    expect(mid.body.status).toBe('enabled');
    const dead = await merchant.api.get<{ data: { type: string }[] }>('/v1/events', {
      type: 'webhook_delivery.dead',
    });
    expect(dead.body.data).toHaveLength(1);
    // Day 4: another event; its retries cross the 5-day mark and the endpoint is disabled.
    await advanceTo(firstFailure + 4 * 86_400_000);
    await merchant.api.post('/v1/customers', { email: 'fail2@example.com' });
    await drive(endpoint.id, async () => {
      const reply = await merchant.api.get<{ status: string }>(`/v1/webhook_endpoints/${endpoint.id}`);
      return reply.body.status === 'disabled';
    });
    expect(nowMs() - firstFailure).toBeGreaterThanOrEqual(5 * 86_400_000);
    const arrivals = receiver.received.slice(start);
    expect(arrivals.some((a) => a.event.type.startsWith('webhook_'))).toBe(false);
    // Nothing more is attempted: no open deliveries remain and new events make none.
    await merchant.api.post('/v1/customers', { email: 'fail3@example.com' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const after = await deliveriesOf(endpoint.id);
    expect(after).toHaveLength(2);
    expect(after.some(open)).toBe(false);
  });

  it('signs with both secrets during a rotation overlap, and with the new one only after it', async () => {
    const merchant = await createMerchant(t, 'Rotating');
    const endpoint = await endpointFor(merchant.api, 'rotating');
    receiver.respond = () => ({ status: 200 });
    const rotated = await merchant.api.post<{ secret: string }>(
      `/v1/webhook_endpoints/${endpoint.id}/rotate_secret`,
      {
        expires_in_seconds: 3600,
      },
    );
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(endpoint.secret);
    receiver.verifyWith = [endpoint.secret, rotated.body.secret];
    let start = receiver.received.length;
    await merchant.api.post('/v1/customers', { email: 'rot1@example.com' });
    await waitFor('a delivery during the overlap', () => receiver.received.length > start);
    const during = receiver.received[start];
    expect(during?.verified).toEqual([
      { secret: endpoint.secret, standard: true, stripe: true },
      { secret: rotated.body.secret, standard: true, stripe: true },
    ]);
    expect(String(during?.headers['webhook-signature']).split(' ')).toHaveLength(2);

    await advanceTo(nowMs() + 3_600_000);
    start = receiver.received.length;
    await merchant.api.post('/v1/customers', { email: 'rot2@example.com' });
    await waitFor('a delivery after the overlap', () => receiver.received.length > start);
    expect(receiver.received[start]?.verified).toEqual([
      { secret: endpoint.secret, standard: false, stripe: false },
      { secret: rotated.body.secret, standard: true, stripe: true },
    ]);
    const bad = await merchant.api.post<{ error: { param: string } }>(
      `/v1/webhook_endpoints/${endpoint.id}/rotate_secret`,
      {
        expires_in_seconds: 90_000,
      },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('expires_in_seconds');
  });
});
