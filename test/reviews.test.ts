// Reviews (DESIGN section 4) and runbook 002's rollback marking: the review in Stripe's shape, list,
// retrieve and approve, tenancy, and `payctl rollback mark-for-review` opening exactly one review on each
// succeeded payment of the window (not older ones, not failed or uncaptured ones) with one audit row,
// and none on a rerun. Money does not move.
import { compileErrors, validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPayctl } from './support/processes.js';
import { createMerchant, startTestService, type TestService, testDatabaseKind } from './support/service.js';
import { expectSameShape, stripeFixtures } from './support/stripe-shape.js';

type Intent = { id: string; status: string; latest_charge: string | null };
type Review = {
  id: string;
  object: string;
  charge: string;
  payment_intent: string;
  open: boolean;
  opened_reason: string;
  reason: string;
  closed_reason: string | null;
};
type Marking = { opened: number; reviews: { id: string; charge: string; payment_intent: string }[] };
type AuditEntry = { action: string; actor: { type: string }; new_value: Record<string, unknown> };

let t: TestService;
let other: Awaited<ReturnType<typeof createMerchant>>;
beforeAll(async () => {
  t = await startTestService();
  other = await createMerchant(t);
});
afterAll(async () => {
  await t.close();
});

async function pay(api = t.merchant, extra: Record<string, string> = {}) {
  const reply = await api.post<Intent>('/v1/payment_intents', {
    amount: 1500,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    confirm: 'true',
    ...extra,
  });
  return reply.body;
}

const mark = (since: string | number) =>
  t.admin.post<Marking>('/admin/rollback/mark-for-review', { since }, { as: 'json' });

const rollbackAudit = async () =>
  (
    await t.admin.get<{ data: AuditEntry[] }>('/admin/audit', {
      action: 'payment.rollback.mark_for_review',
    })
  ).body.data;

describe('reviews and rollback marking', { timeout: 90_000 }, () => {
  let recent: Intent[];
  let old: Intent;
  let marking: Marking;

  it('marks exactly the succeeded payments of the window, once, with one audit row', async () => {
    old = await pay();
    expect(old.status).toBe('succeeded');
    expect((await t.api.post('/_test/clock', { advance_seconds: 2 * 3600 })).status).toBe(200);
    recent = [await pay(), await pay(), await pay(other.api)];
    expect(recent.map((intent) => intent.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    const declined = await t.merchant.post<{ error: { payment_intent: { id: string; status: string } } }>(
      '/v1/payment_intents',
      { amount: 1500, currency: 'usd', payment_method: 'pm_card_chargeDeclined', confirm: 'true' },
    );
    expect(declined.status).toBe(402);
    const declinedId = declined.body.error.payment_intent.id;
    const uncaptured = await pay(t.merchant, { capture_method: 'manual' });
    expect(uncaptured.status).toBe('requires_capture');
    const balanceBefore = (await t.merchant.get('/v1/balance')).body;

    const reply = await mark('1h');
    expect(reply.status, reply.text).toBe(200);
    marking = reply.body;
    expect(marking.opened).toBe(3);
    expect(marking.reviews.map((r) => r.payment_intent).sort()).toEqual(recent.map((i) => i.id).sort());
    const marked = new Set(marking.reviews.map((r) => r.payment_intent));
    for (const skipped of [old.id, declinedId, uncaptured.id]) expect(marked.has(skipped)).toBe(false);

    const audit = await rollbackAudit();
    expect(audit).toHaveLength(1);
    expect(audit[0]?.actor.type).toBe('operator');
    expect(audit[0]?.new_value).toMatchObject({
      affected_count: 3,
      reason: 'system_rollback',
      since_seconds: 3600,
    });

    const again = await mark(3600);
    expect(again.body.opened).toBe(0);
    expect(await rollbackAudit()).toHaveLength(2);
    expect((await rollbackAudit())[0]?.new_value).toMatchObject({ affected_count: 0 });
    // Money does not move and the payments keep their status.
    expect((await t.merchant.get('/v1/balance')).body).toEqual(balanceBefore);
    const intent = await t.merchant.get<Intent>(`/v1/payment_intents/${recent[0]?.id}`);
    expect(intent.body.status).toBe('succeeded');
  });

  it('shows the review in Stripe shape, on the charge, in the list and as an event', async () => {
    const mine = marking.reviews.find((r) => r.payment_intent === recent[0]?.id);
    const review = await t.merchant.get<Review>(`/v1/reviews/${mine?.id}`);
    expect(review.status).toBe(200);
    expect(review.body.id).toMatch(/^prv_/);
    expect(review.body).toMatchObject({
      object: 'review',
      charge: recent[0]?.latest_charge,
      payment_intent: recent[0]?.id,
      open: true,
      opened_reason: 'system_rollback',
      reason: 'system_rollback',
      closed_reason: null,
    });
    expectSameShape(review.body, stripeFixtures.resources.review);

    const charge = await t.merchant.get<{ review: string | null }>(`/v1/charges/${recent[0]?.latest_charge}`);
    expect(charge.body.review).toBe(review.body.id);

    const list = await t.merchant.get<{ object: string; data: Review[]; has_more: boolean; url: string }>(
      '/v1/reviews',
      { limit: 1 },
    );
    expect(list.body).toMatchObject({ object: 'list', has_more: true, url: '/v1/reviews' });
    const next = await t.merchant.get<{ data: Review[]; has_more: boolean }>('/v1/reviews', {
      limit: 1,
      starting_after: list.body.data[0]?.id,
    });
    expect(next.body.has_more).toBe(false);
    expect([...list.body.data, ...next.body.data].map((r) => r.payment_intent).sort()).toEqual(
      [recent[0]?.id, recent[1]?.id].sort(),
    );

    const events = await t.merchant.get<{ data: { type: string; data: { object: Review } }[] }>(
      '/v1/events',
      {
        type: 'review.opened',
      },
    );
    expect(events.body.data.map((e) => e.data.object.id).sort()).toEqual(
      list.body.data
        .concat(next.body.data)
        .map((r) => r.id)
        .sort(),
    );
  });

  it('approves an open review once; a second approval is a 400 naming the parameter', async () => {
    const id = marking.reviews.find((r) => r.payment_intent === recent[1]?.id)?.id as string;
    const approved = await t.merchant.post<Review>(`/v1/reviews/${id}/approve`, {});
    expect(approved.status, approved.text).toBe(200);
    expect(approved.body).toMatchObject({ id, open: false, closed_reason: 'approved', reason: 'approved' });
    expect((await t.merchant.get<Review>(`/v1/reviews/${id}`)).body.open).toBe(false);

    const twice = await t.merchant.post<{ error: Record<string, string> }>(`/v1/reviews/${id}/approve`, {});
    expect(twice.status).toBe(400);
    expect(twice.body.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'review_already_closed',
      param: 'id',
    });
    const closed = await t.merchant.get<{ data: { data: { object: Review } }[] }>('/v1/events', {
      type: 'review.closed',
    });
    expect(closed.body.data.map((e) => e.data.object)).toEqual([
      expect.objectContaining({ id, open: false }),
    ]);
    // An approved rollback review is not reopened by a later marking.
    expect((await mark('1h')).body.opened).toBe(0);
  });

  it("answers 404 for another merchant's or the other mode's review", async () => {
    const id = marking.reviews.find((r) => r.payment_intent === recent[0]?.id)?.id as string;
    const theirs = marking.reviews.find((r) => r.payment_intent === recent[2]?.id)?.id as string;
    for (const reply of [
      await other.api.get(`/v1/reviews/${id}`),
      await other.api.post(`/v1/reviews/${id}/approve`, {}),
      await t.merchant.get(`/v1/reviews/${theirs}`),
    ]) {
      expect(reply.status).toBe(404);
      expect(reply.body).toMatchObject({ error: { code: 'resource_missing', param: 'id' } });
    }
    const liveKey = await t.admin.post<{ secret: string }>('/admin/keys', {
      merchant: t.merchantId,
      livemode: true,
    });
    const live = t.api.withKey(liveKey.body.secret);
    expect((await live.get(`/v1/reviews/${id}`)).status).toBe(404);
    expect((await live.get<{ data: Review[] }>('/v1/reviews')).body.data).toEqual([]);
    expect((await other.api.get<{ data: Review[] }>('/v1/reviews')).body.data.map((r) => r.id)).toEqual([
      theirs,
    ]);
    expect((await t.merchant.get(`/v1/reviews/${id}`)).status).toBe(200);
  });

  it('refuses a bad window naming the parameter, and needs payment:configure', async () => {
    const bad = await mark('1 week');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { param: 'since' } });
    expect((await t.merchant.post('/admin/rollback/mark-for-review', { since: '1h' })).status).toBe(401);
  });

  it('payctl rollback mark-for-review --url marks new payments and reruns open none', async () => {
    const fresh = await pay();
    const remote = ['--url', t.url, '--token', t.adminToken];
    const first = await runPayctl([...remote, '--json', 'rollback', 'mark-for-review', '--since', '1h'], {
      LOG_LEVEL: 'warn',
    });
    expect(first.code, first.output).toBe(0);
    const marked = JSON.parse(first.stdout) as Marking;
    expect(marked.opened).toBe(1);
    expect(marked.reviews[0]?.payment_intent).toBe(fresh.id);

    const table = await runPayctl([...remote, 'rollback', 'mark-for-review', '--since', '1h'], {
      LOG_LEVEL: 'warn',
    });
    expect(table.code, table.output).toBe(0);
    expect(table.stdout).toMatch(/Opened 0 review\(s\)/);

    const bad = await runPayctl([...remote, 'rollback', 'mark-for-review', '--since', 'soon'], {
      LOG_LEVEL: 'warn',
    });
    expect(bad.code).not.toBe(0);
    expect(bad.output.trim().split('\n')).toHaveLength(1);
    expect(bad.output).toMatch(/--since/);
    expect((await rollbackAudit()).map((e) => e.new_value.affected_count)).toEqual([0, 1, 0, 0, 3]);
  });

  it('never opens two reviews on one payment when markings run at once', async () => {
    const fresh = [await pay(), await pay(), await pay(other.api)];
    const [a, b] = await Promise.all([mark('1h'), mark('1h')]);
    expect(a?.status, a?.text).toBe(200);
    expect(b?.status, b?.text).toBe(200);
    expect((a?.body.opened ?? 0) + (b?.body.opened ?? 0)).toBe(3);
    const opened = [...(a?.body.reviews ?? []), ...(b?.body.reviews ?? [])].map((r) => r.payment_intent);
    expect(opened.sort()).toEqual(fresh.map((i) => i.id).sort());
  });

  it('documents the routes in a valid /openapi.json', async () => {
    const { body } = await t.api.get<{ paths: Record<string, unknown> }>('/openapi.json');
    const result = await validate(structuredClone(body) as never);
    expect(result.valid ? [] : compileErrors(result)).toEqual([]);
    expect(Object.keys(body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/reviews',
        '/v1/reviews/{id}',
        '/v1/reviews/{id}/approve',
        '/admin/rollback/mark-for-review',
        '/api/payments/test',
      ]),
    );
  });
});

// In process (no --url) payctl reaches the database itself: PostgreSQL only, as an in-memory PGlite
// cannot be shared with a second process.
describe.runIf(testDatabaseKind() === 'postgres')(
  'payctl rollback mark-for-review in process',
  { timeout: 90_000 },
  () => {
    it('marks through the service code with the CLI user as the audit actor', async () => {
      const own = await startTestService();
      try {
        const paid = await own.merchant.post<Intent>('/v1/payment_intents', {
          amount: 700,
          currency: 'usd',
          payment_method: 'pm_card_visa',
          confirm: 'true',
        });
        expect(paid.body.status).toBe('succeeded');
        const env = { DATABASE_URL: own.database?.url as string, LOG_LEVEL: 'warn', USER: 'oncall' };
        const first = await runPayctl(['--json', 'rollback', 'mark-for-review', '--since', '1h'], env);
        expect(first.code, first.output).toBe(0);
        const marked = JSON.parse(first.stdout) as Marking;
        expect(marked.reviews.map((r) => r.payment_intent)).toEqual([paid.body.id]);
        const again = await runPayctl(['--json', 'rollback', 'mark-for-review', '--since', '1h'], env);
        expect((JSON.parse(again.stdout) as Marking).opened).toBe(0);
        const audit = await own.admin.get<{ data: (AuditEntry & { actor: { id: string } })[] }>(
          '/admin/audit',
          {
            action: 'payment.rollback.mark_for_review',
          },
        );
        expect(audit.body.data.map((e) => [e.actor.type, e.actor.id, e.new_value.affected_count])).toEqual([
          ['cli', 'oncall', 0],
          ['cli', 'oncall', 1],
        ]);
      } finally {
        await own.close();
      }
    });
  },
);
