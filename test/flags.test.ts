// Runbook 002's flag API and kill switch (DESIGN section 10, invariant 10): the flag served as the
// runbook writes it, bad input refused naming the parameter with nothing changed, every change audited;
// killed, a new confirmation answers 503 with nothing charged and its idempotency key free, while
// captures, refunds, cancels, 3DS returns and webhooks go on; a rollout admits a stable share.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rolloutBucket } from '../src/modules/flags/flags.js';
import type { Api, Reply } from './support/http.js';
import { inboxSettled } from './support/inbox.js';
import { startTestService, type TestService } from './support/service.js';
import { completeThreeDSecure } from './support/three-d-secure.js';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t.close();
});

type Json = Record<string, unknown>;
type Flag = Json & {
  enabled: boolean;
  killed: boolean;
  environment: string;
  rollout: { value: number };
  environments: Record<string, { rollout: { value: number }; source: string; updated_by: string | null }>;
  updated_by: string | null;
};
type ErrorBody = { error: Json & { type: string; code: string; param?: string } };
type Intent = Json & { id: string; status: string; next_action: { redirect_to_url: { url: string } } | null };
type AuditEntry = { action: string; old_value: unknown; new_value: unknown; actor: { id: string } };

const FLAG = 'payments_live_v1';

function patch<T = Flag>(body: unknown, path = `/v1/flags/${FLAG}`, api: Api = t.admin) {
  return api.request<T>('PATCH', path, body, { as: 'json' });
}
const status = async () => (await t.admin.get<Flag>(`/api/flags/${FLAG}/status`)).body;
const setRollout = async (env: string, value: number) => {
  const reply = await patch({ environments: { [env]: { rollout: { value } } } });
  expect(reply.status, reply.text).toBe(200);
  return reply.body;
};
const flagAudit = async () =>
  (await t.admin.get<{ data: AuditEntry[] }>('/admin/audit', { resource: FLAG, limit: 100 })).body.data;

async function emulatorCharges(): Promise<number> {
  const url = t.service.providers.emulators.stripe?.url;
  if (!url) throw new Error('the embedded Stripe emulator is not running');
  const state = (await (await fetch(`${url}/_emulator/state?types=none`)).json()) as {
    counts: { charges: number };
  };
  return state.counts.charges;
}
/** Rows a confirmation would add: intents, attempts, payment methods (PayPal's inline one). */
async function rowCounts() {
  const db = t.service.database.db;
  const count = async (table: 'payment_intents' | 'payment_attempts' | 'payment_methods') =>
    Number(
      (await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(db)).rows[0]?.n,
    );
  return {
    intents: await count('payment_intents'),
    attempts: await count('payment_attempts'),
    methods: await count('payment_methods'),
  };
}

function pay(extra: Json = {}, key?: string): Promise<Reply<Intent & ErrorBody>> {
  return t.merchant.post<Intent & ErrorBody>(
    '/v1/payment_intents',
    { amount: 1500, currency: 'usd', payment_method: 'pm_card_visa', confirm: 'true', ...extra },
    key ? { headers: { 'idempotency-key': key } } : {},
  );
}

function expectPaymentsDisabled(reply: Reply<ErrorBody>) {
  expect(reply.status, reply.text).toBe(503);
  expect(reply.body.error).toMatchObject({ type: 'api_error', code: 'payments_disabled' });
  expect(reply.body.error.message).toMatch(/nothing was charged/);
  expect(reply.headers.get('stripe-should-retry')).toBe('false');
}

describe('the flag API as runbook 002 writes it', () => {
  it('serves the default when nothing was set: enabled, 100% everywhere', async () => {
    const flag = await status();
    expect(flag).toMatchObject({
      object: 'feature_flag',
      name: FLAG,
      enabled: true,
      killed: false,
      environment: 'test',
      rollout: { value: 100 },
      updated_at: null,
    });
    expect(Object.keys(flag.environments)).toEqual(['development', 'test', 'staging', 'production']);
    expect(flag.environments.production).toMatchObject({ rollout: { value: 100 }, source: 'default' });
    const list = await t.admin.get<{ data: Flag[] }>('/admin/flags');
    expect(list.body.data.map((f) => f.name)).toEqual([FLAG]);
    const health = await t.api.get<{ checks: Json }>('/health/payments');
    expect(health.body.checks.feature_flag).toBe('enabled');
    const openapi = await t.api.get<{ paths: Record<string, Record<string, { security?: unknown }>> }>(
      '/openapi.json',
    );
    expect(openapi.body.paths['/v1/flags/{flag}']?.patch?.security).toEqual([{ operator: [] }]);
    expect(Object.keys(openapi.body.paths)).toEqual(
      expect.arrayContaining(['/api/flags/{flag}/kill', '/api/flags/{flag}/status', '/admin/flags']),
    );
  });

  it("takes step 1's curl as written (JSON sent with curl -d's form content type), audited", async () => {
    const before = (await flagAudit()).length;
    // curl -X PATCH .../v1/flags/payments_live_v1 -H "Authorization: Bearer $ADMIN_TOKEN" -d '{...}'
    const reply = await fetch(`${t.url}/v1/flags/${FLAG}`, {
      method: 'PATCH',
      headers: {
        authorization: `Bearer ${t.adminToken}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: '{"environments":{"staging":{"rollout":{"value":10}}}}',
    });
    const body = (await reply.json()) as Flag;
    expect(reply.status, JSON.stringify(body)).toBe(200);
    expect(body.environments.staging).toMatchObject({ rollout: { value: 10 }, source: 'operator' });
    expect(body.environments.staging?.updated_by).toMatch(/^op_/);
    // This service runs as APP_ENV=test: staging's rollout is not its own.
    expect(body).toMatchObject({ environment: 'test', rollout: { value: 100 }, enabled: true });
    expect((await status()).environments.staging?.rollout.value).toBe(10);

    const audit = await flagAudit();
    expect(audit).toHaveLength(before + 1);
    expect(audit[0]).toMatchObject({ action: 'feature_flag.rollout.set' });
    expect(audit[0]?.old_value).toMatchObject({
      killed: false,
      rollouts: { staging: 100 },
    });
    expect(audit[0]?.new_value).toMatchObject({
      killed: false,
      rollouts: { staging: 10, production: 100 },
    });

    // Several environments in one PATCH, through the /admin alias payctl uses.
    const both = await patch(
      { environments: { staging: { rollout: { value: 50 } }, production: { rollout: { value: 1 } } } },
      `/admin/flags/${FLAG}`,
    );
    expect(both.status, both.text).toBe(200);
    expect(both.body.environments.staging?.rollout.value).toBe(50);
    expect(both.body.environments.production?.rollout.value).toBe(1);
    await setRollout('staging', 100);
    await setRollout('production', 100);
  });

  it('answers bad input with a 400 naming the parameter, and changes nothing', async () => {
    await setRollout('staging', 30);
    const before = await status();
    const auditBefore = (await flagAudit()).length;
    const cases: [unknown, string, string?][] = [
      [{ environments: { qa: { rollout: { value: 10 } } } }, 'environments[qa]'],
      [{ environments: { staging: { rollout: { value: 101 } } } }, 'environments[staging][rollout][value]'],
      [{ environments: { staging: { rollout: { value: -1 } } } }, 'environments[staging][rollout][value]'],
      [{ environments: { staging: { rollout: { value: 10.5 } } } }, 'environments[staging][rollout][value]'],
      [{ environments: { staging: { rollout: { value: 'ten' } } } }, 'environments[staging][rollout][value]'],
      [{ environments: { staging: { rollout: {} } } }, 'environments[staging][rollout][value]'],
      [
        { environments: { staging: { rollout: { value: 10, variation: 2 } } } },
        'environments[staging][rollout][variation]',
      ],
      [
        { environments: { staging: { rollout: { value: 10 }, enabled: true } } },
        'environments[staging][enabled]',
      ],
      // One good environment beside a bad one: the good one is not applied either.
      [
        { environments: { staging: { rollout: { value: 10 } }, production: { rollout: { value: 200 } } } },
        'environments[production][rollout][value]',
      ],
      [{ environments: { staging: { rollout: { value: 10 } } }, killed: true }, 'killed'],
      [{ environments: {} }, 'environments'],
      [{ environments: 'staging' }, 'environments'],
      [{}, 'environments'],
      [{ environments: { staging: { rollout: { value: 10 } } } }, 'flag', '/v1/flags/payments_live_v2'],
    ];
    for (const [body, param, path] of cases) {
      const reply = await patch<ErrorBody>(body, path);
      expect(reply.status, `${JSON.stringify(body)}: ${reply.text}`).toBe(400);
      expect(reply.body.error).toMatchObject({ type: 'invalid_request_error', param });
      expect(reply.body.error.message).toContain(param);
    }
    for (const action of ['kill', 'enable', 'status']) {
      const reply =
        action === 'status'
          ? await t.admin.get<ErrorBody>('/api/flags/payments_live_v2/status')
          : await t.admin.post<ErrorBody>(`/api/flags/payments_live_v2/${action}`);
      expect(reply.status, reply.text).toBe(400);
      expect(reply.body.error.param).toBe('flag');
    }
    const kill = await t.admin.post<ErrorBody>(`/api/flags/${FLAG}/kill`, { everywhere: 'yes' });
    expect(kill.status).toBe(400);
    expect(kill.body.error.param).toBe('everywhere');
    const invalidJson = await fetch(`${t.url}/v1/flags/${FLAG}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
      body: '{"environments":',
    });
    expect(invalidJson.status).toBe(400);

    expect(await status()).toEqual(before);
    expect(await flagAudit()).toHaveLength(auditBefore);
    await setRollout('staging', 100);
  });

  it('needs an operator: changes with provider:operate, status with payment:read', async () => {
    const anonymous = await patch<ErrorBody>(
      { environments: { test: { rollout: { value: 0 } } } },
      undefined,
      t.api,
    );
    expect(anonymous.status).toBe(401);
    expect((await t.api.post(`/api/flags/${FLAG}/kill`)).status).toBe(401);
    expect((await t.merchant.get(`/api/flags/${FLAG}/status`)).status).toBe(401);

    const viewer = await t.admin.post('/admin/operators', {
      email: 'flag-viewer@example.test',
      role: 'payment-viewer',
      password: 'a long enough password',
    });
    expect(viewer.status, viewer.text).toBe(200);
    const login = await t.api.post<{ token: string }>('/admin/login', {
      email: 'flag-viewer@example.test',
      password: 'a long enough password',
    });
    const asViewer = t.api.withKey(login.body.token);
    expect((await asViewer.get<Flag>(`/api/flags/${FLAG}/status`)).status).toBe(200);
    expect((await asViewer.post(`/api/flags/${FLAG}/kill`)).status).toBe(403);
    expect(
      (await patch({ environments: { test: { rollout: { value: 0 } } } }, undefined, asViewer)).status,
    ).toBe(403);
    expect(await status()).toMatchObject({ killed: false, rollout: { value: 100 } });
  });
});

describe('the kill switch (invariant 10)', () => {
  it('refuses new confirmations with nothing charged, while existing payments carry on', async () => {
    // Before the kill: an authorized payment to capture, another to cancel, a succeeded one to refund,
    // a 3DS payment waiting for its shopper, and an unconfirmed intent.
    const authorized = await pay({ capture_method: 'manual' });
    expect(authorized.body.status, authorized.text).toBe('requires_capture');
    const toCancel = await pay({ capture_method: 'manual' });
    const succeeded = await pay();
    expect(succeeded.body.status).toBe('succeeded');
    const threeDs = await pay({
      payment_method: 'pm_card_authenticationRequired',
      return_url: 'https://shop.example/back',
    });
    expect(threeDs.body.status, threeDs.text).toBe('requires_action');
    const unconfirmed = await t.merchant.post<Intent>('/v1/payment_intents', {
      amount: 700,
      currency: 'usd',
      payment_method: 'pm_card_visa',
    });
    expect(unconfirmed.body.status).toBe('requires_confirmation');
    await inboxSettled(t);

    // runbook 002: curl -X POST .../api/flags/payments_live_v1/kill -H "Authorization: Bearer $EMERGENCY_TOKEN"
    const killedAt = new Date();
    const kill = await fetch(`${t.url}/api/flags/${FLAG}/kill`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.adminToken}` },
    });
    expect(kill.status).toBe(200);
    const verify = await status();
    expect(verify).toMatchObject({ enabled: false, killed: true, state: 'killed' });
    expect(verify.killed_by).toMatch(/^op_/);
    expect((await t.api.get<{ checks: Json }>('/health/payments')).body.checks.feature_flag).toBe('killed');

    const charges = await emulatorCharges();
    const rows = await rowCounts();
    const refused = await pay({}, 'kill-switch-key');
    expectPaymentsDisabled(refused);
    expectPaymentsDisabled(
      await t.merchant.post<ErrorBody>('/v1/payment_intents', {
        amount: 1500,
        currency: 'usd',
        confirm: 'true',
        payment_method_types: ['paypal'],
        payment_method_data: { type: 'paypal' },
        return_url: 'https://shop.example/back',
      }),
    );
    const confirm = await t.merchant.post<ErrorBody>(`/v1/payment_intents/${unconfirmed.body.id}/confirm`);
    expectPaymentsDisabled(confirm);
    expect(await rowCounts()).toEqual(rows);
    expect(await emulatorCharges()).toBe(charges);
    expect((await t.merchant.get<Intent>(`/v1/payment_intents/${unconfirmed.body.id}`)).body.status).toBe(
      'requires_confirmation',
    );
    // Not a confirmation: an intent may still be created unconfirmed.
    const draft = await t.merchant.post<Intent>('/v1/payment_intents', { amount: 900, currency: 'usd' });
    expect(draft.status).toBe(200);

    const captured = await t.merchant.post<Intent>(`/v1/payment_intents/${authorized.body.id}/capture`);
    expect(captured.status, captured.text).toBe(200);
    expect(captured.body.status).toBe('succeeded');
    const refund = await t.merchant.post<Json>('/v1/refunds', {
      payment_intent: succeeded.body.id,
      amount: 500,
    });
    expect(refund.status, refund.text).toBe(200);
    expect(refund.body.status).toBe('succeeded');
    const canceled = await t.merchant.post<Intent>(`/v1/payment_intents/${toCancel.body.id}/cancel`);
    expect(canceled.status, canceled.text).toBe(200);
    expect(canceled.body.status).toBe('canceled');
    const shopper = await completeThreeDSecure(
      String(threeDs.body.next_action?.redirect_to_url.url),
      'approve',
    );
    expect(shopper.merchantUrl?.searchParams.get('redirect_status')).toBe('succeeded');
    expect((await t.merchant.get<Intent>(`/v1/payment_intents/${threeDs.body.id}`)).body.status).toBe(
      'succeeded',
    );
    // The one charge made at the provider meanwhile: the 3DS payment's, on its shopper's approval.
    expect(await emulatorCharges()).toBe(charges + 1);

    // The provider's webhooks about the capture, refund, cancel and 3DS were taken and processed.
    await inboxSettled(t);
    const inbox = await t.service.database.db
      .selectFrom('webhook_inbox')
      .select(['status', 'type'])
      .where('received_at', '>=', killedAt)
      .execute();
    expect(inbox.length).toBeGreaterThan(0);
    expect(inbox.filter((row) => row.status !== 'processed' && row.status !== 'ignored')).toEqual([]);

    // Lifted: payments flow again, and the refused request's idempotency key was left free.
    const enable = await t.admin.post<Flag>(`/api/flags/${FLAG}/enable`, { reason: 'incident over' });
    expect(enable.status, enable.text).toBe(200);
    expect(enable.body).toMatchObject({ enabled: true, killed: false, killed_by: null });
    const retried = await pay({}, 'kill-switch-key');
    expect(retried.status, retried.text).toBe(200);
    expect(retried.body.status).toBe('succeeded');
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect(await emulatorCharges()).toBe(charges + 2);

    const audit = await flagAudit();
    expect(audit.slice(0, 2).map((e) => e.action)).toEqual(['feature_flag.enable', 'feature_flag.kill']);
    expect(audit[1]?.old_value).toMatchObject({ killed: false });
    expect(audit[1]?.new_value).toMatchObject({ killed: true });
    expect(audit[0]?.new_value).toMatchObject({ killed: false, reason: 'incident over' });
  });

  it('a killed flag keeps its rollouts, and killing twice keeps when it was first killed', async () => {
    await setRollout('staging', 40);
    const first = await t.admin.post<Flag & { killed_at: number }>(`/admin/flags/${FLAG}/kill`);
    const again = await t.admin.post<Flag & { killed_at: number }>(`/admin/flags/${FLAG}/kill`);
    expect(again.body.killed_at).toBe(first.body.killed_at);
    // Changing a rollout does not lift the kill.
    const changed = await setRollout('test', 100);
    expect(changed).toMatchObject({ killed: true, enabled: false });
    expectPaymentsDisabled(await pay());
    const enabled = await t.admin.post<Flag>(`/admin/flags/${FLAG}/enable`);
    expect(enabled.body.environments.staging?.rollout.value).toBe(40);
    expect((await pay()).status).toBe(200);
    await setRollout('staging', 100);
  });
});

describe('percentage rollout', () => {
  it('admits about 10% of 200 customers at 10%, each customer always the same way; 0% none, 100% all', async () => {
    const customers: string[] = [];
    for (let batch = 0; batch < 200 / 20; batch += 1) {
      const created = await Promise.all(
        Array.from({ length: 20 }, () => t.merchant.post<{ id: string }>('/v1/customers', {})),
      );
      customers.push(...created.map((reply) => reply.body.id));
    }
    expect(new Set(customers).size).toBe(200);
    await setRollout('test', 10);
    // Another environment's rollout is not this service's (APP_ENV=test).
    await setRollout('production', 100);

    const answers = new Map<string, number>();
    for (let i = 0; i < customers.length; i += 20) {
      const replies = await Promise.all(customers.slice(i, i + 20).map((customer) => pay({ customer })));
      replies.forEach((reply, j) => {
        const customer = customers[i + j] as string;
        if (reply.status !== 200) expectPaymentsDisabled(reply);
        answers.set(customer, reply.status);
      });
    }
    const admitted = customers.filter((c) => answers.get(c) === 200);
    expect([...answers.values()].every((s) => s === 200 || s === 503)).toBe(true);
    // Binomial(200, 0.1): 20 expected; below 8 or above 40 is far outside its spread.
    expect(admitted.length).toBeGreaterThanOrEqual(8);
    expect(admitted.length).toBeLessThanOrEqual(40);

    // The same customer gets the same answer again (a sample of both kinds).
    const refusedSample = customers.filter((c) => answers.get(c) === 503).slice(0, 10);
    const sample = [...admitted.slice(0, 5), ...refusedSample];
    const again = await Promise.all(sample.map((customer) => pay({ customer })));
    expect(again.map((reply) => reply.status)).toEqual(sample.map((c) => answers.get(c)));

    await setRollout('test', 0);
    const none = await Promise.all(admitted.slice(0, 5).map((customer) => pay({ customer })));
    expect(none.map((reply) => reply.status)).toEqual([503, 503, 503, 503, 503]);
    // Without a customer the merchant is the subject: at 0% it is refused too.
    expectPaymentsDisabled(await pay());

    await setRollout('test', 100);
    const all = await Promise.all(refusedSample.slice(0, 5).map((customer) => pay({ customer })));
    expect(all.map((reply) => reply.status)).toEqual([200, 200, 200, 200, 200]);
  }, 90_000);

  it('buckets subjects stably and evenly (the hash a rollout keys on does not drift)', () => {
    // Pinned: changing the hash would move customers in and out of a running rollout.
    expect(rolloutBucket(FLAG, 'acct_1:cus_1')).toBe(rolloutBucket(FLAG, 'acct_1:cus_1'));
    // (SHA-256 of "payments_live_v1\0acct_1" and "...\0acct_1:cus_1": first 32 bits mod 100.)
    expect([rolloutBucket(FLAG, 'acct_1'), rolloutBucket(FLAG, 'acct_1:cus_1')]).toEqual([45, 23]);
    const counts = new Array<number>(100).fill(0);
    for (let i = 0; i < 100_000; i += 1) {
      const bucket = rolloutBucket(FLAG, `acct_x:cus_${i}`);
      counts[bucket] = (counts[bucket] ?? 0) + 1;
    }
    // 1,000 expected per bucket.
    expect(Math.min(...counts)).toBeGreaterThan(850);
    expect(Math.max(...counts)).toBeLessThan(1150);
  });
});
