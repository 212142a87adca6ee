// Runbook 003's GDPR endpoints as written: POST /api/v1/privacy/data-export/:customerId and
// DELETE /api/v1/privacy/data-erasure/:customerId. A customer goes through a real payment flow (a card
// with billing details attached, a payment with receipt email and shipping, a partial refund, a wallet
// funded, a webhook endpoint whose receiver echoes the email back); the export holds all of it and
// nothing of another customer. After erasure, every text and jsonb column of every table is scanned
// for the customer's email, names, phone and address line (as card-data-scan.test.ts scans for card
// numbers), while payments, charges, refunds and the ledger are unchanged; the card cannot pay again;
// both actions are audited without personal data; a second erasure changes nothing; then payctl.
import { compileErrors, validate } from '@readme/openapi-parser';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../src/modules/ledger/ledger.verify.js';
import type { Api, Reply, RequestOptions } from './support/http.js';
import { runPayctl } from './support/processes.js';
import type { TestService } from './support/service.js';
import { testDatabaseKind } from './support/service.js';
import { waitFor } from './support/wait.js';
import { type Receiver, startWebhookHarness } from './support/webhook-receiver.js';

const EMAIL = 'Jenny.Rosen@privacy.example';
const OLD_NAME = 'J. Rosen-Old';
const NAME = 'Jenny Rosen';
const PHONE = '+15555550123';
const ADDRESS_LINE = '17 Erasure Lane';
const SHOPPER_IP = '203.0.113.77';
const OTHER_EMAIL = 'otto.other@privacy.example';
const PASSWORD = 'a long enough password';
/** What must be gone after erasure, matched case-insensitively. */
const PERSONAL = [EMAIL, OLD_NAME, NAME, PHONE, ADDRESS_LINE, SHOPPER_IP];

let t: TestService;
let receiver: Receiver;
let close: () => Promise<void>;
let keyCounter = 0;
const withKey = (): RequestOptions => ({ headers: { 'idempotency-key': `privacy-${++keyCounter}` } });

type ErrorBody = { error: { type: string; code?: string; param?: string; message: string } };
type AuditEntry = {
  action: string;
  actor: { type: string; id: string | null };
  resource: { type: string; id: string | null } | null;
  outcome: string;
  new_value: unknown;
};
type ListPart<T = Record<string, unknown>> = { object: 'list'; data: T[]; has_more: boolean };
type Export = {
  customer_id: string;
  erased_at: number | null;
  truncated: string[];
  customer: Record<string, unknown> & { deleted: boolean };
  payment_methods: ListPart<{
    id: string;
    card: { last4: string };
    billing_details: { name: string | null };
  }>;
  payment_intents: ListPart<{ id: string; amount: number; receipt_email: string | null }>;
  charges: ListPart<{ id: string; amount_refunded: number }>;
  refunds: ListPart<{ amount: number }>;
  disputes: ListPart;
  wallets: ListPart<{ id: string; balance: { available: number }; entries: ListPart<{ amount: number }> }>;
  events: ListPart<{ id: string; type: string; created: number }>;
  webhook_deliveries: ListPart<{ event: string; status: string }>;
};

const flow = {
  customer: '',
  paymentMethod: '',
  intent: '',
  charge: '',
  refund: '',
  wallet: '',
  other: '',
  otherIntent: '',
};
let adminId = '';

async function ok<T>(reply: Promise<Reply<T>>): Promise<T> {
  const settled = await reply;
  expect(settled.status, settled.text).toBe(200);
  return settled.body;
}

let operatorCounter = 0;
async function createOperator(role: string): Promise<{ id: string; api: Api }> {
  const email = `privacy-${++operatorCounter}-${role}@example.test`;
  const created = await ok(
    t.admin.post<{ id: string }>('/admin/operators', { email, password: PASSWORD, role }),
  );
  const login = await ok(t.api.post<{ token: string }>('/admin/login', { email, password: PASSWORD }));
  return { id: created.id, api: t.api.withKey(login.token) };
}

const exportOf = (id: string, api: Api = t.admin, body: Record<string, unknown> = {}) =>
  api.post<Export & ErrorBody>(`/api/v1/privacy/data-export/${id}`, body, { as: 'json' });
const erase = (id: string, api: Api = t.admin) => api.delete<ErrorBody>(`/api/v1/privacy/data-erasure/${id}`);

async function privacyAudit(customerId: string): Promise<AuditEntry[]> {
  const list = await ok(
    t.admin.get<{ data: AuditEntry[] }>('/admin/audit', { resource: customerId, limit: 100 }),
  );
  return list.data;
}

/** Every text and jsonb value of every row of every table, as JSON text per table. */
async function databaseText(): Promise<Map<string, string[]>> {
  const db = t.service.database.db;
  const tables = await sql<{ name: string }>`
    select table_name as name from information_schema.tables
    where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name
  `.execute(db);
  const out = new Map<string, string[]>();
  for (const { name } of tables.rows) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(db);
    out.set(
      name,
      rows.rows.map((row) => JSON.stringify(row)),
    );
  }
  return out;
}

function findPersonal(tables: Map<string, string[]>, needles: string[]): string[] {
  const found: string[] = [];
  for (const [table, rows] of tables) {
    for (const row of rows) {
      const lower = row.toLowerCase();
      for (const needle of needles) {
        if (lower.includes(needle.toLowerCase())) found.push(`${needle} in ${table}: ${row.slice(0, 300)}`);
      }
    }
  }
  return found;
}

beforeAll(async () => {
  const harness = await startWebhookHarness();
  t = harness.t;
  receiver = harness.receiver;
  close = harness.close;
  // The receiver echoes the customer's email in its answer, which the service keeps as response_excerpt.
  receiver.respond = (delivery) => ({
    status: 200,
    body: `ok ${String(delivery.event.data.object.email ?? '')}`,
  });
  adminId = (await ok(t.admin.get<{ id: string }>('/admin/me'))).id;
  await ok(t.merchant.post('/v1/webhook_endpoints', { url: receiver.url, enabled_events: ['customer.*'] }));
  const m = t.merchant;
  const address = { line1: ADDRESS_LINE, city: 'Berlin', postal_code: '10115', country: 'DE' };
  flow.customer = (
    await ok(
      m.post<{ id: string }>(
        '/v1/customers',
        {
          email: EMAIL,
          name: OLD_NAME,
          phone: PHONE,
          description: `VIP, call ${PHONE}`,
          address,
          shipping: { name: NAME, address },
          metadata: { crm: EMAIL },
        },
        withKey(),
      ),
    )
  ).id;
  // The old name now lives only in the customer.updated event's previous_attributes.
  await ok(m.post(`/v1/customers/${flow.customer}`, { name: NAME }, withKey()));
  const year = t.service.clock.now().getUTCFullYear() + 2;
  flow.paymentMethod = (
    await ok(
      m.post<{ id: string }>(
        '/v1/payment_methods',
        {
          type: 'card',
          card: { number: '4242424242424242', exp_month: 12, exp_year: year, cvc: '123' },
          billing_details: { name: NAME, email: EMAIL, phone: PHONE, address },
        },
        withKey(),
      ),
    )
  ).id;
  await ok(
    m.post(`/v1/payment_methods/${flow.paymentMethod}/attach`, { customer: flow.customer }, withKey()),
  );
  const intent = await ok(
    m.post<{ id: string; status: string; latest_charge: string }>(
      '/v1/payment_intents',
      {
        amount: 2000,
        currency: 'usd',
        customer: flow.customer,
        payment_method: flow.paymentMethod,
        confirm: 'true',
        receipt_email: EMAIL,
        shopper_ip: SHOPPER_IP,
        shipping: { name: NAME, address },
        description: 'Order 1001',
        metadata: { order: '1001', buyer: NAME },
      },
      withKey(),
    ),
  );
  expect(intent.status).toBe('succeeded');
  flow.intent = intent.id;
  flow.charge = intent.latest_charge;
  flow.refund = (
    await ok(m.post<{ id: string }>('/v1/refunds', { payment_intent: flow.intent, amount: 500 }, withKey()))
  ).id;
  flow.wallet = (
    await ok(m.post<{ id: string }>('/v1/wallets', { customer: flow.customer, currency: 'usd' }, withKey()))
  ).id;
  await ok(m.post(`/v1/wallets/${flow.wallet}/fund`, { amount: 3000 }, withKey()));

  flow.other = (
    await ok(m.post<{ id: string }>('/v1/customers', { email: OTHER_EMAIL, name: 'Otto Other' }, withKey()))
  ).id;
  flow.otherIntent = (
    await ok(
      m.post<{ id: string }>(
        '/v1/payment_intents',
        {
          amount: 1500,
          currency: 'usd',
          customer: flow.other,
          payment_method: 'pm_card_visa',
          confirm: 'true',
          receipt_email: OTHER_EMAIL,
        },
        withKey(),
      ),
    )
  ).id;
  await waitFor('the customer webhooks to be answered', async () => {
    const rows = await t.service.database.db
      .selectFrom('webhook_delivery_attempts')
      .select('response_excerpt')
      .execute();
    return rows.some((row) => row.response_excerpt.toLowerCase().includes(EMAIL.toLowerCase()));
  });
});
afterAll(async () => {
  await close?.();
});

describe('data export (runbook 003)', () => {
  it("answers everything held about the customer, with card display data only, and nothing of another's", async () => {
    const reply = await exportOf(flow.customer);
    expect(reply.status, reply.text).toBe(200);
    const body = reply.body;
    expect(body.customer).toMatchObject({ id: flow.customer, email: EMAIL, name: NAME, deleted: false });
    expect(body.erased_at).toBeNull();
    expect(body.payment_methods.data.map((pm) => pm.id)).toEqual([flow.paymentMethod]);
    expect(body.payment_methods.data[0]?.card.last4).toBe('4242');
    expect(body.payment_methods.data[0]?.billing_details.name).toBe(NAME);
    expect(body.payment_intents.data).toEqual([
      expect.objectContaining({ id: flow.intent, amount: 2000, receipt_email: EMAIL }),
    ]);
    expect(body.charges.data).toEqual([expect.objectContaining({ id: flow.charge, amount_refunded: 500 })]);
    expect(body.refunds.data).toEqual([expect.objectContaining({ id: flow.refund, amount: 500 })]);
    expect(body.disputes.data).toEqual([]);
    expect(body.wallets.data).toEqual([
      expect.objectContaining({ id: flow.wallet, balance: expect.objectContaining({ available: 3000 }) }),
    ]);
    expect(body.wallets.data[0]?.entries.data.map((e) => e.amount)).toEqual([3000]);
    const types = body.events.data.map((e) => e.type);
    for (const type of [
      'customer.created',
      'customer.updated',
      'payment_method.attached',
      'payment_intent.succeeded',
      'charge.refunded',
      'wallet.funded',
    ]) {
      expect(types).toContain(type);
    }
    expect(body.webhook_deliveries.data.length).toBeGreaterThanOrEqual(2);
    expect(body.truncated).toEqual([]);
    // Card data: brand and last 4, never the number or the CVC.
    expect(reply.text).not.toContain('4242424242424242');
    expect(reply.text).not.toMatch(/"cvc"\s*:\s*"123"/);
    // Nothing of the other customer.
    for (const foreign of [flow.other, flow.otherIntent, OTHER_EMAIL])
      expect(reply.text).not.toContain(foreign);
  });

  it('caps each list at limit and says which lists it cut', async () => {
    const reply = await exportOf(flow.customer, t.admin, { limit: 1 });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.events.data).toHaveLength(1);
    expect(reply.body.events.has_more).toBe(true);
    expect(reply.body.truncated).toContain('events');
    expect(reply.body.payment_intents.has_more).toBe(false);
    const bad = await exportOf(flow.customer, t.admin, { limit: 5000 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('limit');
  });

  it('is for operators with privacy:export: an operator may, a viewer and a merchant key may not', async () => {
    const operator = await createOperator('payment-operator');
    expect((await exportOf(flow.customer, operator.api)).status).toBe(200);
    const viewer = await createOperator('payment-viewer');
    const denied = await exportOf(flow.customer, viewer.api);
    expect(denied.status).toBe(403);
    expect(denied.body.error.type).toBe('permission_error');
    expect((await exportOf(flow.customer, t.merchant)).status).toBe(401);
    const missing = await exportOf('cus_doesnotexist');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: 'resource_missing', param: 'customerId' });
    const audit = await privacyAudit(flow.customer);
    expect(audit.filter((e) => e.action === 'privacy.export' && e.outcome === 'success').length).toBe(3);
    expect(audit.find((e) => e.action === 'privacy.export')).toMatchObject({
      resource: { type: 'customer', id: flow.customer },
    });
    expect((await privacyAudit('cus_doesnotexist'))[0]).toMatchObject({
      action: 'privacy.export',
      outcome: 'failure',
    });
  });
});

describe('data erasure (runbook 003)', () => {
  it('refuses viewers and operators, and answers 404 naming customerId for an unknown customer', async () => {
    for (const role of ['payment-viewer', 'payment-operator']) {
      const { api } = await createOperator(role);
      const denied = await erase(flow.customer, api);
      expect(denied.status, `${role}: ${denied.text}`).toBe(403);
    }
    const missing = await erase('cus_doesnotexist');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: 'resource_missing', param: 'customerId' });
    const customer = await ok(t.merchant.get<{ email: string }>(`/v1/customers/${flow.customer}`));
    expect(customer.email).toBe(EMAIL);
  });

  it("answers 409 while one of the customer's payments is processing, changing nothing", async () => {
    const db = t.service.database.db;
    const email = 'paula.pending@privacy.example';
    const id = (await ok(t.merchant.post<{ id: string }>('/v1/customers', { email }))).id;
    const intent = await ok(
      t.merchant.post<{ id: string }>('/v1/payment_intents', { amount: 900, currency: 'usd', customer: id }),
    );
    // As a confirmation whose outcome is still unknown leaves it (the card may be needed to settle it).
    const setStatus = (status: 'processing' | 'requires_payment_method') =>
      db.updateTable('payment_intents').set({ status }).where('id', '=', intent.id).execute();
    await setStatus('processing');
    const refused = await erase(id);
    expect(refused.status, refused.text).toBe(409);
    expect(refused.body.error.code).toBe('customer_payment_processing');
    expect(await ok(t.merchant.get(`/v1/customers/${id}`))).toMatchObject({ email });
    expect((await privacyAudit(id))[0]).toMatchObject({ action: 'privacy.erase', outcome: 'failure' });
    await setStatus('requires_payment_method');
    expect((await erase(id)).status).toBe(204);
  });

  it('removes every trace of the personal data and the card, keeping payments, refunds and the ledger', async () => {
    const db = t.service.database.db;
    const m = t.merchant;
    const before = {
      intent: await ok(m.get<Record<string, unknown>>(`/v1/payment_intents/${flow.intent}`)),
      charge: await ok(m.get<Record<string, unknown>>(`/v1/charges/${flow.charge}`)),
      refund: await ok(m.get<Record<string, unknown>>(`/v1/refunds/${flow.refund}`)),
      wallet: await ok(m.get<Record<string, unknown>>(`/v1/wallets/${flow.wallet}`)),
      balance: await ok(m.get('/v1/balance')),
      entries: await db.selectFrom('ledger_entries').selectAll().orderBy('id').execute(),
    };
    // The scan finds what it looks for: before erasure every personal value is in the database.
    const beforeScan = findPersonal(await databaseText(), PERSONAL);
    for (const needle of PERSONAL)
      expect(beforeScan.some((hit) => hit.startsWith(`${needle} in`))).toBe(true);

    const reply = await erase(flow.customer);
    expect(reply.status, reply.text).toBe(204);
    expect(reply.text).toBe('');

    const found = findPersonal(await databaseText(), PERSONAL);
    expect(found).toEqual([]);
    // ...while the other customer's data is untouched.
    expect(findPersonal(await databaseText(), [OTHER_EMAIL]).length).toBeGreaterThan(0);
    expect(await ok(m.get(`/v1/customers/${flow.other}`))).toMatchObject({ email: OTHER_EMAIL });

    // Stripe's deleted customer; financial records unchanged but for the personal fields.
    expect(await ok(m.get(`/v1/customers/${flow.customer}`))).toEqual({
      id: flow.customer,
      object: 'customer',
      deleted: true,
    });
    const intent = await ok(m.get<Record<string, unknown>>(`/v1/payment_intents/${flow.intent}`));
    expect(intent).toEqual({
      ...before.intent,
      receipt_email: null,
      shipping: null,
      description: null,
      metadata: { order: '1001', buyer: '[erased]' },
    });
    const charge = await ok(m.get<Record<string, unknown>>(`/v1/charges/${flow.charge}`));
    expect(charge).toMatchObject({
      amount: 2000,
      amount_captured: 2000,
      amount_refunded: 500,
      status: 'succeeded',
      customer: flow.customer,
      description: null,
      billing_details: expect.objectContaining({ name: null, email: null, phone: null }),
      payment_method_details: { card: expect.objectContaining({ last4: '4242', brand: 'visa' }) },
    });
    expect(charge.balance_transaction).toBe(before.charge.balance_transaction);
    expect(await ok(m.get(`/v1/refunds/${flow.refund}`))).toEqual(before.refund);
    expect(await ok(m.get(`/v1/wallets/${flow.wallet}`))).toEqual(before.wallet);
    expect(await ok(m.get('/v1/balance'))).toEqual(before.balance);
    expect(await db.selectFrom('ledger_entries').selectAll().orderBy('id').execute()).toEqual(before.entries);
    const verified = await verifyLedger(db);
    expect(verified.ok, JSON.stringify(verified)).toBe(true);

    // The card is gone from the vault; its display data stays; paying with it again is a clean 400.
    const vault = await db
      .selectFrom('vault_cards')
      .select('payment_method_id')
      .where('payment_method_id', '=', flow.paymentMethod)
      .execute();
    expect(vault).toEqual([]);
    const method = await ok(
      m.get<{ card: { last4: string }; billing_details: Record<string, unknown> }>(
        `/v1/payment_methods/${flow.paymentMethod}`,
      ),
    );
    expect(method.card.last4).toBe('4242');
    expect(method.billing_details).toMatchObject({ name: null, email: null, phone: null });
    const intentsBefore = (await db.selectFrom('payment_intents').select('id').execute()).length;
    const again = await m.post<ErrorBody>('/v1/payment_intents', {
      amount: 700,
      currency: 'usd',
      payment_method: flow.paymentMethod,
      confirm: 'true',
    });
    expect(again.status, again.text).toBe(400);
    expect(again.body.error).toMatchObject({ type: 'invalid_request_error', param: 'payment_method' });
    expect((await db.selectFrom('payment_intents').select('id').execute()).length).toBe(intentsBefore);

    // Merchants hear of it as Stripe's customer.deleted, and the webhook carries no personal data.
    const deleted = await waitFor('customer.deleted to be delivered', () =>
      receiver.received.find(
        (r) => r.event.type === 'customer.deleted' && r.event.data.object.id === flow.customer,
      ),
    );
    expect(deleted.event.data.object).toMatchObject({ id: flow.customer, email: null, name: null });

    // Audited: who and what, the customer by id only.
    const audit = await privacyAudit(flow.customer);
    const erasure = audit.find((e) => e.action === 'privacy.erase' && e.outcome === 'success');
    expect(erasure).toMatchObject({
      actor: { type: 'operator', id: adminId },
      resource: { type: 'customer', id: flow.customer },
      new_value: expect.objectContaining({ erased_now: true, vault_cards_deleted: 1, payment_intents: 1 }),
    });
    expect(findPersonal(new Map([['audit', audit.map((e) => JSON.stringify(e))]]), PERSONAL)).toEqual([]);

    // The export now shows what is left: the pseudonymised customer and the financial records.
    const after = await exportOf(flow.customer);
    expect(after.status).toBe(200);
    expect(after.body.customer).toMatchObject({ email: null, name: null, phone: null, deleted: true });
    expect(after.body.erased_at).toEqual(expect.any(Number));
    expect(after.body.payment_intents.data[0]).toMatchObject({ amount: 2000, receipt_email: null });
  });

  it('is idempotent: a second erasure answers 204 and changes nothing', async () => {
    // Bookkeeping that moves on its own (audit, jobs, operator token use) is left out of the comparison.
    const snapshot = async () => {
      const tables = await databaseText();
      for (const name of [
        'audit_log',
        'audit_chain_head',
        'jobs',
        'job_schedules',
        'operator_tokens',
        'operator_sessions',
      ]) {
        tables.delete(name);
      }
      return tables;
    };
    await waitFor('every webhook delivery to be answered', async () => {
      const open = await t.service.database.db
        .selectFrom('webhook_deliveries')
        .select('id')
        .where('status', '=', 'pending')
        .execute();
      return open.length === 0;
    });
    const before = await snapshot();
    const reply = await erase(flow.customer);
    expect(reply.status, reply.text).toBe(204);
    expect(await snapshot()).toEqual(before);
    const audit = await privacyAudit(flow.customer);
    expect(audit[0]).toMatchObject({
      action: 'privacy.erase',
      outcome: 'success',
      new_value: expect.objectContaining({ erased_now: false }),
    });
  });
});

describe('OpenAPI', () => {
  it('describes both endpoints as operator routes, and the document stays valid', async () => {
    const reply = await t.api.get<{ paths: Record<string, Record<string, { security?: unknown }>> }>(
      '/openapi.json',
    );
    const result = await validate(structuredClone(reply.body) as never);
    expect(result.valid ? [] : compileErrors(result)).toEqual([]);
    const { paths } = reply.body;
    expect(paths['/api/v1/privacy/data-export/{customerId}']?.post?.security).toEqual([{ operator: [] }]);
    expect(paths['/api/v1/privacy/data-erasure/{customerId}']?.delete?.security).toEqual([{ operator: [] }]);
  });
});

describe('payctl customer export | erase', { timeout: 90_000 }, () => {
  it('exports and, only with --yes, erases over --url', async () => {
    const remote = ['--url', t.url, '--token', t.adminToken];
    const email = 'carla.cli@privacy.example';
    const id = (await ok(t.merchant.post<{ id: string }>('/v1/customers', { email, name: 'Carla CLI' }))).id;
    const exported = await runPayctl([...remote, '--json', 'customer', 'export', id], { LOG_LEVEL: 'warn' });
    expect(exported.code, exported.output).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({ customer_id: id, customer: { email } });
    const human = await runPayctl([...remote, 'customer', 'export', id], { LOG_LEVEL: 'warn' });
    expect(human.code, human.output).toBe(0);
    expect(human.stdout).toMatch(/KIND\s+COUNT\s+MORE/);
    expect(human.stdout).toMatch(/payment_intents\s+0\s+no/);

    const refused = await runPayctl([...remote, 'customer', 'erase', id], { LOG_LEVEL: 'warn' });
    expect(refused.code).toBe(64);
    expect(refused.output.trim().split('\n')).toHaveLength(1);
    expect(refused.output).toMatch(/--yes/);
    expect(await ok(t.merchant.get(`/v1/customers/${id}`))).toMatchObject({ email });

    const erased = await runPayctl([...remote, 'customer', 'erase', id, '--yes'], { LOG_LEVEL: 'warn' });
    expect(erased.code, erased.output).toBe(0);
    expect(erased.stdout).toContain(`customer ${id} erased`);
    expect(await ok(t.merchant.get(`/v1/customers/${id}`))).toEqual({
      id,
      object: 'customer',
      deleted: true,
    });
    const missing = await runPayctl([...remote, 'customer', 'erase', 'cus_nobody', '--yes'], {
      LOG_LEVEL: 'warn',
    });
    expect(missing.code).toBe(1);
    expect(missing.output).toMatch(/404: No such customer: 'cus_nobody'/);
  });

  it.runIf(testDatabaseKind() === 'postgres')('exports in process against DATABASE_URL', async () => {
    const email = 'ines.inprocess@privacy.example';
    const id = (await ok(t.merchant.post<{ id: string }>('/v1/customers', { email }))).id;
    const env = { DATABASE_URL: t.database?.url as string, LOG_LEVEL: 'warn' };
    const exported = await runPayctl(['--json', 'customer', 'export', id], env);
    expect(exported.code, exported.output).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({ customer_id: id, customer: { email } });
    const erased = await runPayctl(['--json', 'customer', 'erase', id, '--yes'], env);
    expect(erased.code, erased.output).toBe(0);
    expect(JSON.parse(erased.stdout)).toMatchObject({ customer: id, erased_now: true });
    const audit = await privacyAudit(id);
    expect(audit.map((e) => [e.action, e.actor.type])).toEqual([
      ['privacy.erase', 'cli'],
      ['privacy.export', 'cli'],
    ]);
  });
});
