// The operator dashboard end to end: Chromium (DESIGN section 3) against the service serving
// /dashboard, logged in through the page like an operator. One browser for the file; the admin's
// logged-in context is shared by the tests after the login, each on its own page; the viewer has its own
// context. Every test saves a screenshot to test-artifacts/dashboard/.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdjustableClock } from '../src/clock.js';
import { collectErrors, launchChromium, newContext, PHONE, screenshot } from './support/browser.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, type TestService } from './support/service.js';
import { waitFor } from './support/wait.js';
import { type Receiver, startWebhookHarness } from './support/webhook-receiver.js';

let t: TestService;
let receiver: Receiver;
let closeHarness = async () => {};
let browser: Browser;
let admin: BrowserContext;

const DASHBOARD_BUILT = existsSync(path.resolve('dist', 'dashboard', 'index.html'));

beforeAll(async () => {
  if (!DASHBOARD_BUILT) throw new Error('dist/dashboard/index.html is missing: run `npm run build` first');
  ({ t, receiver, close: closeHarness } = await startWebhookHarness());
  browser = await launchChromium();
  admin = await newContext(browser);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await closeHarness();
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

describe('operator dashboard', () => {
  it('serves the app with its CSP, and deep links fall back to it', async () => {
    const deep = await fetch(`${t.url}/dashboard/payments/pi_unknown`);
    expect(deep.status).toBe(200);
    expect(deep.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await deep.text();
    expect(html).toContain('<div id="root">');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const missing = await fetch(`${t.url}/dashboard/assets/missing.js`);
    expect(missing.status).toBe(404);
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
    await page.close();
  });
});
