// Two service processes' worth of job runners on one PostgreSQL database: events about one subject are
// processed one at a time whichever process claims them, while other subjects proceed in parallel.
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProviderEventHandler } from '../src/modules/webhooks-in/webhooks-in.js';
import { inboxRows, inboxSettled } from './support/inbox.js';
import { startTestService, type TestService } from './support/service.js';

const SECRET = `whsec_${Buffer.from('p'.repeat(32)).toString('base64')}`;
const env = { STRIPE_WEBHOOK_SECRET: SECRET, JOBS_CONCURRENCY: '4' };

let first: TestService;
let second: TestService;
const active = new Map<string, number>();
const most = new Map<string, number>();
let overlapAcrossSubjects = 0;

const handler: ProviderEventHandler = {
  types: ['test.serial'],
  async handle(_provider, event) {
    const subject = (event.payload as { data: { object: { id: string } } }).data.object.id;
    const now = (active.get(subject) ?? 0) + 1;
    active.set(subject, now);
    most.set(subject, Math.max(most.get(subject) ?? 0, now));
    if ([...active.entries()].some(([other, count]) => other !== subject && count > 0))
      overlapAcrossSubjects++;
    await new Promise((resolve) => setTimeout(resolve, 25));
    active.set(subject, (active.get(subject) ?? 1) - 1);
  },
};

beforeAll(async () => {
  first = await startTestService({ env });
  second = await startTestService({ env, databaseUrl: first.database?.url as string });
  first.service.services.webhooks.register(handler);
  second.service.services.webhooks.register(handler);
});
afterAll(async () => {
  await second?.close();
  await first?.close();
});

function deliver(t: TestService, id: string, subject: string) {
  const payload = JSON.stringify({
    id,
    object: 'event',
    type: 'test.serial',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    data: { object: { id: subject, object: 'thing' } },
  });
  return fetch(`${t.url}/webhooks/stripe`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET }),
    },
    body: payload,
  });
}

describe('per-subject serialisation across processes', () => {
  it('never runs two events of one subject at once, on either process', async () => {
    const subjects = ['obj_serial_a', 'obj_serial_b', 'obj_serial_c'];
    const deliveries = subjects.flatMap((subject) =>
      Array.from({ length: 10 }, (_, i) => ({ id: `evt_${subject}_${i}`, subject })),
    );
    const replies = await Promise.all(
      deliveries.map((d, i) => deliver(i % 2 === 0 ? first : second, d.id, d.subject)),
    );
    for (const reply of replies) expect(reply.status).toBe(200);
    await inboxSettled(first, 30_000);
    const rows = await inboxRows(
      first,
      deliveries.map((d) => d.id),
    );
    expect(rows.map((row) => row.status)).toEqual(deliveries.map(() => 'processed'));
    for (const subject of subjects) expect(most.get(subject)).toBe(1);
    // The lease is per subject: different subjects did run side by side.
    expect(overlapAcrossSubjects).toBeGreaterThan(0);
    const leases = await first.service.database.db.selectFrom('webhook_subject_locks').selectAll().execute();
    expect(leases).toEqual([]);
  });
});
