// A time range of outbound deliveries for replay tests: deliveries before, inside and after it, a
// simulated minute apart, each delivered once; and the check that a replay of the range sent each
// delivery inside it exactly once more and none outside it.
import { expect } from 'vitest';
import type { Api } from './http.js';
import type { TestService } from './service.js';
import { waitFor } from './wait.js';
import type { Receiver } from './webhook-receiver.js';

interface Delivery {
  id: string;
  status: string;
  attempts: number;
}

export interface DeliveryRange {
  endpoint: string;
  from: Date;
  to: Date;
  /** webhook-ids (delivery ids) created inside [from, to), and before or after it. */
  inside: Set<string>;
  outside: Set<string>;
}

async function deliveriesOf(t: TestService, endpoint: string): Promise<Delivery[]> {
  const reply = await t.admin.get<{ data: Delivery[] }>('/admin/webhook_deliveries', {
    endpoint,
    limit: 100,
  });
  expect(reply.status, reply.text).toBe(200);
  return reply.body.data;
}

async function advanceClock(t: TestService, seconds: number) {
  const reply = await t.api.post('/_test/clock', { advance_seconds: seconds });
  expect(reply.status, reply.text).toBe(200);
}

/**
 * Makes a `customer.created` endpoint on `merchant` and one customer before the range, `inside`
 * customers within it and one after it; returns once every delivery has succeeded.
 */
export async function deliveriesAroundRange(
  t: TestService,
  merchant: Api,
  receiver: Receiver,
  inside: number,
): Promise<DeliveryRange> {
  const endpoint = await merchant.post<{ id: string }>('/v1/webhook_endpoints', {
    url: receiver.url,
    enabled_events: ['customer.created'],
  });
  expect(endpoint.status, endpoint.text).toBe(200);
  receiver.respond = () => ({ status: 200 });
  const customers = async (label: string, count: number) => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const reply = await merchant.post<{ id: string }>('/v1/customers', {
        email: `${label}${i}@example.com`,
      });
      expect(reply.status, reply.text).toBe(200);
      ids.push(reply.body.id);
    }
    return ids;
  };
  // Each step's deliveries finish before the clock jumps a minute: a jump past a live attempt's lease
  // would let another poll take the job over and send it again (at-least-once, but not what this
  // range counts).
  const delivered = (count: number) =>
    waitFor(
      `${count} deliveries to succeed`,
      async () => {
        const list = await deliveriesOf(t, endpoint.body.id);
        return list.length === count && list.every((d) => d.status === 'succeeded') && list;
      },
      15_000,
    );
  const before = await customers('before', 1);
  await delivered(1);
  await advanceClock(t, 60);
  const from = t.service.clock.now();
  const within = await customers('inside', inside);
  await delivered(1 + inside);
  await advanceClock(t, 60);
  const to = t.service.clock.now();
  const after = await customers('after', 1);
  // This endpoint's deliveries only: other endpoints on the receiver may get the same events.
  const ours = new Set((await delivered(inside + 2)).map((d) => d.id));
  const webhookIds = (customerIds: string[]) =>
    new Set(
      receiver.received
        .filter((r) => ours.has(r.id) && customerIds.includes(r.event.data.object.id as string))
        .map((r) => r.id),
    );
  const range = {
    endpoint: endpoint.body.id,
    from,
    to,
    inside: webhookIds(within),
    outside: webhookIds([...before, ...after]),
  };
  expect(range.inside.size).toBe(inside);
  expect(range.outside.size).toBe(2);
  return range;
}

/** Each delivery inside the range was sent once more (one more attempt, same webhook-id); none outside. */
export async function expectRangeReplayedOnce(t: TestService, receiver: Receiver, range: DeliveryRange) {
  const arrivals = (id: string) => receiver.received.filter((r) => r.id === id).length;
  const list = await waitFor(
    'every delivery in the range to be sent again',
    async () => {
      const list = await deliveriesOf(t, range.endpoint);
      const again = list.filter((d) => range.inside.has(d.id));
      return again.every((d) => d.status === 'succeeded' && d.attempts >= 2) && list;
    },
    15_000,
  );
  expect(list).toHaveLength(range.inside.size + range.outside.size);
  for (const delivery of list) {
    expect(delivery.attempts, delivery.id).toBe(range.inside.has(delivery.id) ? 2 : 1);
    expect(arrivals(delivery.id), delivery.id).toBe(range.inside.has(delivery.id) ? 2 : 1);
  }
}
