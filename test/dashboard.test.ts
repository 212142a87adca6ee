// The operator dashboard end to end: Chromium (DESIGN section 3) against the service serving
// /dashboard, logged in through the page like an operator. One browser for the file; the admin's
// logged-in context is shared by the tests after the login, each on its own page; the viewer has its own
// context. Every test saves a screenshot to test-artifacts/dashboard/.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdjustableClock } from '../src/clock.js';
import { registerDashboard } from '../src/http/dashboard.js';
import { collectErrors, launchChromium, newContext, PHONE, screenshot } from './support/browser.js';
import { Authenticator } from './support/mfa.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, type TestService } from './support/service.js';
import { waitFor } from './support/wait.js';
import { type Receiver, startWebhookHarness } from './support/webhook-receiver.js';

let t: TestService;
let receiver: Receiver;
let closeHarness = async () => {};
let browser: Browser;
let admin: BrowserContext;

const VIEWER_PASSWORD = 'viewer password long enough';
/**
 * The dashboard as its sources stand, built into a folder of this run (a second or two): a stale
 * dist/dashboard cannot hide a change, and the two database projects never write the same files.
 */
function buildDashboard(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'dashboard-e2e-'));
  const vite = path.resolve('node_modules', 'vite', 'bin', 'vite.js');
  execFileSync(
    process.execPath,
    [
      vite,
      'build',
      '--config',
      'dashboard/vite.config.ts',
      '--outDir',
      dir,
      '--emptyOutDir',
      '--logLevel',
      'error',
    ],
    { stdio: 'inherit' },
  );
  return dir;
}

let dashboardDir = '';
beforeAll(async () => {
  dashboardDir = buildDashboard();
  ({ t, receiver, close: closeHarness } = await startWebhookHarness({ DASHBOARD_DIR: dashboardDir }));
  browser = await launchChromium();
  admin = await newContext(browser);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await closeHarness();
  if (dashboardDir) rmSync(dashboardDir, { recursive: true, force: true });
});

const now = () => t.service.clock.now().getTime();

/** A fresh authenticator code of the bootstrap admin (moving the test clock on when both were used). */
function adminCode(): string {
  if (!t.adminTotp.hasCodeAt(now()) && t.service.clock instanceof AdjustableClock)
    t.service.clock.advance(30_000);
  return t.adminTotp.code(now());
}

async function open(context: BrowserContext, route: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${t.url}/dashboard${route}`);
  return page;
}

async function login(page: Page, email: string, password: string, code?: () => string) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  if (code) {
    await page.getByLabel('Authenticator code').fill(code());
    await page.getByRole('button', { name: 'Verify and log in' }).click();
  }
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

async function pay(paymentMethod: string, amount = 2000, extra: Record<string, unknown> = {}) {
  return t.merchant.post<{ id: string; status: string; error?: { code: string } }>('/v1/payment_intents', {
    amount,
    currency: 'usd',
    payment_method: paymentMethod,
    confirm: 'true',
    ...extra,
  });
}

// A browser step waits at most 10 s; a whole test gets 60 s, for CI runs where every suite shares two cores.
describe('operator dashboard', { timeout: 60_000 }, () => {
  it('serves the app with its CSP, and deep links fall back to it', async () => {
    const deep = await fetch(`${t.url}/dashboard/payments/pi_unknown`);
    expect(deep.status).toBe(200);
    expect(deep.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await deep.text();
    expect(html).toContain('<div id="root">');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const missing = await fetch(`${t.url}/dashboard/assets/missing.js`);
    expect(missing.status).toBe(404);
    // Without a build, /dashboard says why instead of a bare 404.
    const bare = Fastify();
    await registerDashboard(bare, path.join(tmpdir(), 'no-dashboard-here'));
    const notBuilt = await bare.inject({ url: '/dashboard/overview' });
    expect(notBuilt.statusCode).toBe(503);
    expect(notBuilt.body).toMatch(/not built .*npm run build/);
    await bare.close();
  });

  it('logs in with the second factor', async () => {
    const page = await open(admin, '/');
    await page.getByLabel('Email').fill(ADMIN_EMAIL);
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    // The password alone is not enough for an admin: the page asks for the code.
    const codeField = page.getByLabel('Authenticator code');
    await codeField.waitFor();
    await codeField.fill('000000');
    await page.getByRole('button', { name: 'Verify and log in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/code is wrong/);
    await codeField.fill(adminCode());
    await page.getByRole('button', { name: 'Verify and log in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    expect(await page.locator('.who').textContent()).toContain('payment-admin');
    expect(await page.getByRole('link', { name: 'API keys' }).count()).toBe(1);
    await screenshot(page, 'login-second-factor');
    await page.close();
  });

  it('has a new admin enrol an authenticator before anything else', async () => {
    const email = 'second-admin@example.test';
    const created = await t.admin.post('/admin/operators', {
      email,
      password: VIEWER_PASSWORD,
      role: 'payment-admin',
    });
    expect(created.status, created.text).toBe(200);
    const context = await newContext(browser);
    const page = await open(context, '/');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(VIEWER_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Set up your authenticator' }).waitFor();
    await page.getByRole('button', { name: 'Create a key' }).click();
    const device = new Authenticator((await page.getByTestId('totp-secret').textContent()) ?? '');
    await page.getByLabel('First code from the app').fill(device.code(now()));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    expect(await page.locator('.who').textContent()).toContain(email);
    await screenshot(page, 'mfa-enrolled');
    // Log out: the login comes back and the session no longer works.
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    expect(await page.evaluate<number>("fetch('/admin/me').then((r) => r.status)")).toBe(401);
    await context.close();
  });

  it('turns the kill switch on (a payment fails) and off (one succeeds), each after a confirmation', async () => {
    const page = await open(admin, '/flags');
    const state = page.getByTestId('flag-state-payments_live_v1');
    await expect(state.textContent()).resolves.toMatch(/^Enabled/);
    await page.getByLabel('Reason (kept in the audit log)').fill('dashboard test');
    await page.getByRole('button', { name: 'Turn kill switch on' }).click();
    // Nothing changes until the confirmation.
    expect((await t.admin.get<{ killed: boolean }>('/admin/flags/payments_live_v1')).body.killed).toBe(false);
    await page.getByRole('button', { name: 'Yes, kill payments' }).click();
    await waitFor('the killed state on the page', async () =>
      /^Killed/.test((await state.textContent()) ?? ''),
    );
    const refused = await pay('pm_card_visa');
    expect(refused.status, refused.text).toBe(503);
    expect(refused.body.error?.code).toBe('payments_disabled');
    await screenshot(page, 'kill-switch-on');

    await page.getByRole('button', { name: 'Turn kill switch off' }).click();
    await page.getByRole('button', { name: 'Yes, enable payments' }).click();
    await waitFor('the enabled state on the page', async () =>
      /^Enabled/.test((await state.textContent()) ?? ''),
    );
    const accepted = await pay('pm_card_visa');
    expect(accepted.status, accepted.text).toBe(200);
    expect(accepted.body.status).toBe('succeeded');
    await screenshot(page, 'kill-switch-off');

    // The rollout percentage, also after a confirmation step.
    const staging = page.getByRole('form', { name: 'Rollout in staging' });
    await staging.getByLabel('staging rollout %').fill('10');
    await staging.getByRole('button', { name: 'Set' }).click();
    await staging.getByRole('button', { name: 'Confirm 10% in staging' }).click();
    await waitFor('the staging rollout', async () => {
      const flag = await t.admin.get<{ environments: { staging: { rollout: { value: number } } } }>(
        '/admin/flags/payments_live_v1',
      );
      return flag.body.environments.staging.rollout.value === 10;
    });
    await page.close();
  });

  it('forces a circuit open from Providers, the overview warns, and returns it to automatic', async () => {
    const page = await open(admin, '/providers');
    await page.getByRole('button', { name: 'Force open stripe' }).click();
    await page.getByRole('button', { name: 'Confirm' }).click();
    await waitFor('the forced state', async () =>
      (await page.getByTestId('circuit-stripe').textContent())?.includes('forced open'),
    );
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('alert').filter({ hasText: 'Circuit open for stripe' }).waitFor();
    await screenshot(page, 'circuit-open-banner');
    await page.getByRole('link', { name: 'Providers' }).first().click();
    await page.getByRole('button', { name: 'Automatic stripe' }).click();
    await page.getByRole('button', { name: 'Confirm' }).click();
    await waitFor('the automatic state', async () => {
      const text = await page.getByTestId('circuit-stripe').textContent();
      return text !== null && !text.includes('forced');
    });
    const providers = await t.admin.get<{ data: { provider: string; forced: string | null }[] }>(
      '/admin/providers',
    );
    expect(providers.body.data.find((p) => p.provider === 'stripe')?.forced).toBeNull();
    await page.close();
  });

  it('replays a failed webhook delivery', async () => {
    const endpoint = await t.merchant.post<{ id: string }>('/v1/webhook_endpoints', {
      url: receiver.url,
      enabled_events: ['customer.created'],
    });
    expect(endpoint.status, endpoint.text).toBe(200);
    receiver.respond = () => ({ status: 500 });
    await t.merchant.post('/v1/customers', { email: 'replayed@example.com' });
    const deliveries = (status?: string) =>
      t.admin
        .get<{ data: { id: string; status: string }[] }>('/admin/webhook_deliveries', {
          endpoint: endpoint.body.id,
          ...(status ? { status } : {}),
        })
        .then((reply) => reply.body.data);
    const [failed] = await waitFor('a failed delivery', async () => {
      const list = await deliveries('failed');
      return list.length === 1 && list;
    });
    receiver.respond = () => ({ status: 200 });
    const page = await open(admin, '/webhooks');
    await page.getByLabel('Delivery status').selectOption('failed');
    const row = page.getByRole('row').filter({ hasText: failed!.id });
    await expect(row.textContent()).resolves.toContain('HTTP 500');
    await row.getByRole('button', { name: `Replay ${failed!.id}` }).click();
    await row.getByRole('button', { name: 'Confirm' }).click();
    await waitFor(
      'the replayed delivery to succeed',
      async () => {
        const list = await deliveries();
        return list.some((d) => d.status === 'succeeded') && list;
      },
      15_000,
    );
    await page.getByLabel('Delivery status').selectOption('succeeded');
    await page.getByRole('row').filter({ hasText: 'succeeded' }).first().waitFor();
    await screenshot(page, 'replay-failed-delivery');

    // An endpoint's failures at once, then a time range.
    receiver.respond = () => ({ status: 500 });
    await t.merchant.post('/v1/customers', { email: 'failures@example.com' });
    await waitFor('a second failed delivery', async () => (await deliveries('failed')).length === 1);
    receiver.respond = () => ({ status: 200 });
    await page.getByLabel('Endpoint id').fill(endpoint.body.id);
    await page.getByRole('button', { name: "Replay this endpoint's failures" }).click();
    await page.getByRole('button', { name: 'Confirm' }).click();
    await waitFor(
      'every delivery to succeed',
      async () => (await deliveries()).every((d) => d.status === 'succeeded'),
      15_000,
    );
    const arrivals = receiver.received.length;
    const minute = (offsetMs: number) => new Date(now() + offsetMs).toISOString().slice(0, 16);
    await page.getByLabel('From (UTC)').fill(minute(-3_600_000));
    await page.getByLabel('To (UTC)').fill(minute(3_600_000));
    await page.getByLabel('Only endpoint (optional)').fill(endpoint.body.id);
    await page.getByRole('button', { name: 'Replay range' }).click();
    await page.getByRole('status').filter({ hasText: 'Deliveries in the range queued again.' }).waitFor();
    // Both of the endpoint's deliveries are sent once more.
    await waitFor('the range to be sent again', async () => receiver.received.length >= arrivals + 2, 15_000);
    await page.close();
  });

  it('generates payments and the overview moves', async () => {
    const page = await open(admin, '/');
    await page.getByRole('radio', { name: 'Last hour' }).check();
    const attempts = page.getByTestId('tile-attempts').locator('.tile-value');
    await attempts.waitFor();
    const before = Number(await attempts.textContent());
    for (const method of ['pm_card_visa', 'pm_card_mastercard', 'pm_card_chargeDeclined']) {
      const reply = await pay(method);
      expect([200, 402]).toContain(reply.status);
    }
    await page.getByRole('button', { name: 'Refresh' }).click();
    await waitFor('the attempts tile to count three more', async () => {
      return Number(await attempts.textContent()) >= before + 3;
    });
    const declineRate = await page.getByTestId('tile-decline-rate').locator('.tile-value').textContent();
    expect(declineRate).toMatch(/^\d+\.\d%$/);
    expect(await page.locator('svg[role="img"] title').count()).toBeGreaterThanOrEqual(3);
    await screenshot(page, 'overview-moves');
    await page.close();
  });

  it('finds a payment by card last4 and refunds it', async () => {
    const paid = await pay('pm_card_mastercard', 1234, { metadata: { order: 'dash-refund' } });
    expect(paid.status, paid.text).toBe(200);
    const page = await open(admin, '/payments');
    await page.getByLabel('Card last 4').fill('4444');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: paid.body.id }).click();
    await page.getByRole('heading', { name: `Payment ${paid.body.id}` }).waitFor();
    await page.getByRole('button', { name: 'Refund', exact: true }).click();
    const sent = page.waitForRequest((request) => request.url().endsWith('/admin/refunds'));
    await page.getByRole('button', { name: 'Confirm refund' }).click();
    // Under an Idempotency-Key, so a resent refund acts once (test/operator-refunds.test.ts).
    expect((await sent).headers()['idempotency-key']).toMatch(/^dash-[0-9a-f]{32}$/);
    await page
      .getByRole('status')
      .filter({ hasText: /Refund re_\w+ created: \$12\.34/ })
      .waitFor();
    await waitFor('the refunded amount on the page', async () =>
      (await page.getByTestId('payment-refunded').textContent())?.includes('12.34'),
    );
    const refunds = await t.merchant.get<{ data: { amount: number; status: string }[] }>('/v1/refunds', {
      payment_intent: paid.body.id,
    });
    expect(refunds.body.data).toEqual([expect.objectContaining({ amount: 1234, status: 'succeeded' })]);
    await screenshot(page, 'refund-by-last4');
    // Metadata goes through the search endpoint; the filters live in the URL, so this link is shareable.
    await page.goto(`${t.url}/dashboard/payments?metadata_key=order&metadata_value=dash-refund`);
    await page.getByRole('link', { name: paid.body.id }).waitFor();
    expect(await page.getByRole('link', { name: /^pi_/ }).count()).toBe(1);
    expect(await page.getByLabel('Metadata value').inputValue()).toBe('dash-refund');
    await page.close();
  });

  it('captures an authorized payment from its page', async () => {
    const held = await pay('pm_card_visa', 700, { capture_method: 'manual' });
    expect(held.body.status, held.text).toBe('requires_capture');
    const page = await open(admin, `/payments/${held.body.id}`);
    await page.getByRole('button', { name: 'Capture' }).click();
    await page.getByRole('button', { name: 'Confirm' }).click();
    await waitFor('the captured status', async () =>
      (await page.getByTestId('payment-status').textContent())?.includes('succeeded'),
    );
    const intent = await t.merchant.get<{ status: string; amount_received: number }>(
      `/v1/payment_intents/${held.body.id}`,
    );
    expect(intent.body).toMatchObject({ status: 'succeeded', amount_received: 700 });
    await screenshot(page, 'capture');
    await page.close();
  });

  it('lists a dispute with its due date and adds evidence with a file', async () => {
    const disputed = await pay('pm_card_createDispute', 1500);
    expect(disputed.status, disputed.text).toBe(200);
    const dispute = await waitFor(
      'the dispute to arrive',
      async () =>
        (
          await t.admin.get<{ data: { id: string; payment_intent: string }[] }>('/admin/disputes', {
            limit: 100,
          })
        ).body.data?.find((d) => d.payment_intent === disputed.body.id),
      15_000,
    );
    const page = await open(admin, '/disputes');
    const row = page.getByRole('row').filter({ hasText: dispute.id });
    await expect(row.textContent()).resolves.toMatch(/days left/);
    await row.getByRole('button', { name: `Add evidence to ${dispute.id}` }).click();
    await page.getByLabel('Explanation').fill('The customer signed for the parcel.');
    // The signed delivery note as a file: uploaded under the dispute's merchant, named in its evidence.
    await page.getByLabel('Document type').selectOption('shipping_documentation');
    const note = Buffer.concat([Buffer.from('%PDF-1.7\n% signed delivery note\n'), Buffer.alloc(1000, 0x20)]);
    await page
      .getByLabel(/Evidence file/)
      .setInputFiles({ name: 'delivery-note.pdf', mimeType: 'application/pdf', buffer: note });
    await page.getByRole('button', { name: 'Save evidence' }).click();
    await page.getByRole('status').filter({ hasText: 'Evidence saved.' }).waitFor();
    const saved = await t.merchant.get<{ evidence: Record<string, string | null> }>(
      `/v1/disputes/${dispute.id}`,
    );
    expect(saved.body.evidence.uncategorized_text).toBe('The customer signed for the parcel.');
    const fileId = saved.body.evidence.shipping_documentation as string;
    expect(fileId).toMatch(/^file_/);
    const file = await t.merchant.get<{ filename: string; size: number; type: string }>(
      `/v1/files/${fileId}`,
    );
    expect(file.body).toMatchObject({ filename: 'delivery-note.pdf', size: note.byteLength, type: 'pdf' });
    await screenshot(page, 'dispute-evidence');
    await page.close();
  });

  it('creates an API key whose secret is shown once, and revokes it', async () => {
    const page = await open(admin, '/keys');
    await page.getByLabel('Merchant id').fill(t.merchantId);
    await page.getByRole('button', { name: 'Show keys' }).click();
    await page.getByLabel('Name').fill('dashboard key');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = (await page.getByTestId('new-secret').textContent()) ?? '';
    expect(secret).toMatch(/^sk_test_/);
    const key = t.api.withKey(secret);
    expect((await key.get('/v1/customers')).status).toBe(200);
    await screenshot(page, 'api-key-created');
    await page.getByRole('button', { name: 'I have copied it' }).click();
    expect(await page.content()).not.toContain(secret);
    const row = page.getByRole('row').filter({ hasText: 'dashboard key' });
    await row.getByRole('button', { name: /^Revoke / }).click();
    await row.getByRole('button', { name: 'Confirm' }).click();
    await waitFor(
      'the key to stop working',
      async () => (await key.get('/v1/customers')).status === 401,
      10_000,
    );
    // The audit log has both, and its chain verifies.
    const audit = await open(admin, '/audit');
    await audit.getByLabel('Action').fill('api_key.revoke');
    await audit.getByRole('button', { name: 'Filter' }).click();
    await audit.getByRole('row').filter({ hasText: 'api_key.revoke' }).first().waitFor();
    await audit.getByRole('button', { name: 'Verify the chain' }).click();
    await expect(audit.getByTestId('chain-report').textContent()).resolves.toMatch(
      /^Chain intact: \d+ rows checked\.$/,
    );
    await screenshot(audit, 'audit-verified');
    await audit.close();
    await page.close();
  });

  it('starts a reconciliation run and shows it', async () => {
    const page = await open(admin, '/reconciliation');
    await page.getByRole('button', { name: 'Reconcile the last 24 hours' }).click();
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('status').filter({ hasText: 'Run started.' }).waitFor();
    const runs = await t.admin.get<{ data: { id: string }[] }>('/admin/reconciliation/runs');
    const run = runs.body.data[0];
    expect(run).toBeDefined();
    await page.getByRole('button', { name: run!.id }).waitFor();
    await page.getByRole('heading', { name: `Mismatches of ${run!.id}` }).waitFor();
    await screenshot(page, 'reconciliation');
    await page.close();
  });

  it('a viewer sees no refund button, and the API refuses the viewer a refund', async () => {
    const paid = await pay('pm_card_visa', 500);
    expect(paid.status, paid.text).toBe(200);
    const email = 'viewer@example.test';
    const created = await t.admin.post('/admin/operators', {
      email,
      password: VIEWER_PASSWORD,
      role: 'payment-viewer',
    });
    expect(created.status, created.text).toBe(200);
    const viewer = await newContext(browser);
    const page = await open(viewer, `/payments/${paid.body.id}`);
    await login(page, email, VIEWER_PASSWORD);
    await page.getByRole('heading', { name: `Payment ${paid.body.id}` }).waitFor();
    await page.getByTestId('payment-status').waitFor();
    expect(await page.locator('.who').textContent()).toContain('payment-viewer');
    expect(await page.getByRole('button', { name: 'Refund', exact: true }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'API keys' }).count()).toBe(0);
    // The same session, straight at the API: refused, and nothing refunded.
    const status = await page.evaluate(async (id) => {
      const reply = await fetch('/admin/refunds', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ payment_intent: id }),
      });
      return reply.status;
    }, paid.body.id);
    expect(status).toBe(403);
    const refunds = await t.merchant.get<{ data: unknown[] }>('/v1/refunds', {
      payment_intent: paid.body.id,
    });
    expect(refunds.body.data).toEqual([]);
    await screenshot(page, 'viewer-cannot-refund');
    await viewer.close();
  });

  it('shows no console errors on any screen', async () => {
    const page = await admin.newPage();
    const errors = collectErrors(page);
    await page.goto(`${t.url}/dashboard/`);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByTestId('tile-attempts').waitFor();
    // Keyboard: the first Tab reaches the skip link, which moves focus to the content.
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string>('document.activeElement.textContent')).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate<string>('document.activeElement.id')).toBe('main');
    const screens: [string, string][] = [
      ['Payments', 'Payments'],
      ['Webhooks', 'Webhooks'],
      ['Providers', 'Providers'],
      ['Flags', 'Flags and kill switch'],
      ['Reconciliation', 'Reconciliation'],
      ['Disputes', 'Disputes'],
      ['Audit log', 'Audit log'],
      ['API keys', 'API keys'],
      ['Overview', 'Overview'],
    ];
    for (const [link, heading] of screens) {
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link }).click();
      await page.getByRole('heading', { level: 1, name: heading }).waitFor();
      // Every screen's first load has settled: no loading line and no error shown.
      await waitFor(`${link} to load`, async () => (await page.getByText('Loading…').count()) === 0);
      expect(await page.locator('.error').allTextContents(), link).toEqual([]);
    }
    // A payment's detail page too, by deep link.
    const { body } = await t.admin.get<{ data: { id: string }[] }>('/admin/payment_intents', { limit: 1 });
    await page.goto(`${t.url}/dashboard/payments/${body.data[0]?.id}`);
    await page.getByTestId('payment-status').waitFor();
    expect(await page.locator('.error').allTextContents()).toEqual([]);
    await screenshot(page, 'no-console-errors');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('switches between test and live data', async () => {
    const page = await open(admin, '/payments');
    const rows = page.getByRole('table').first().locator('tbody tr');
    await page.getByRole('link', { name: /^pi_/ }).first().waitFor();
    await page.getByRole('switch', { name: 'Test mode' }).check();
    await page.getByRole('note').filter({ hasText: 'Live mode: these are real payments.' }).waitFor();
    // Every payment here was made with a test key: live mode lists none.
    await waitFor(
      'the live list',
      async () => (await rows.allTextContents()).join('') === 'No payments match.',
    );
    await screenshot(page, 'live-mode');
    await page.getByRole('switch', { name: 'Live mode' }).uncheck();
    await page.getByRole('link', { name: /^pi_/ }).first().waitFor();
    await page.close();
  });

  it('fits a laptop and a phone: the overview at 1280 and 390 px wide', async () => {
    // The laptop view after every test's payments, refunds and dispute (README's screenshot).
    const laptop = await open(admin, '/');
    await laptop.getByTestId('tile-attempts').waitFor();
    await screenshot(laptop, 'overview-laptop');
    await laptop.close();
    const phone = await browser.newContext({ viewport: PHONE, storageState: await admin.storageState() });
    const page = await open(phone, '/');
    await page.getByTestId('tile-attempts').waitFor();
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, 'overview-phone');
    await phone.close();
  });
});
