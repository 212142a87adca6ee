// The HTTP surface (issue 9, runbook 002's "security headers configured"): HSTS, nosniff and no framing on
// every answer, a strict CSP on HTML (return pages, /dashboard), CORS closed except card tokenization,
// and the body limit and request timeout set from configuration.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startTestService, type TestService } from './support/service.js';

let t: TestService;
beforeAll(async () => {
  t = await startTestService({ env: { BODY_LIMIT_BYTES: '4096', REQUEST_TIMEOUT_MS: '20000' } });
});
afterAll(async () => {
  await t?.close();
});

const year = new Date().getFullYear() + 2;
const card = {
  type: 'card',
  card: { number: '4242424242424242', exp_month: 12, exp_year: year, cvc: '123' },
};

describe('security headers', () => {
  it('sends HSTS, nosniff, no framing and no referrer on JSON answers, errors included, and no CSP', async () => {
    for (const reply of [
      await t.merchant.get('/v1/customers'),
      await t.api.get('/v1/customers'),
      await t.api.get('/no/such/route'),
    ]) {
      expect(reply.headers.get('strict-transport-security')).toBe('max-age=63072000; includeSubDomains');
      expect(reply.headers.get('x-content-type-options')).toBe('nosniff');
      expect(reply.headers.get('x-frame-options')).toBe('DENY');
      expect(reply.headers.get('referrer-policy')).toBe('no-referrer');
      expect(reply.headers.get('content-security-policy')).toBeNull();
    }
  });

  it('sends a strict Content Security Policy with HTML and anything under /dashboard', async () => {
    const page = await t.api.get('/return/stripe/att_unknown');
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const dashboard = await t.api.get('/dashboard');
    for (const reply of [page, dashboard]) {
      const csp = reply.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
    }
  });
});

describe('CORS', () => {
  it('answers the preflight and allows any origin only for card tokenization', async () => {
    const preflight = await t.api.request('OPTIONS', '/v1/payment_methods', undefined, {
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
    const tokenized = await t.api.post('/v1/payment_methods', card, {
      key: t.publishableKey,
      headers: { origin: 'https://shop.example' },
    });
    expect(tokenized.status, tokenized.text).toBe(200);
    expect(tokenized.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('sends no CORS headers anywhere else, so browsers refuse cross-origin calls', async () => {
    const origin = { origin: 'https://evil.example' };
    const preflight = await t.api.request('OPTIONS', '/v1/customers', undefined, { headers: origin });
    expect(preflight.status).toBe(404);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    for (const reply of [
      await t.merchant.get('/v1/customers', undefined, { headers: origin }),
      await t.admin.get('/admin/me', undefined, { headers: origin }),
      await t.merchant.post('/v1/customers', { email: 'cors@example.com' }, { headers: origin }),
    ]) {
      expect(reply.headers.get('access-control-allow-origin')).toBeNull();
      expect(reply.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });
});

describe('request limits from configuration', () => {
  it('refuses a body over BODY_LIMIT_BYTES with 413 and sets REQUEST_TIMEOUT_MS on the server', async () => {
    const big = await t.merchant.post('/v1/customers', { description: 'x'.repeat(5000) });
    expect(big.status).toBe(413);
    expect(t.service.http.app.server.requestTimeout).toBe(20_000);
    expect(loadConfig({}).REQUEST_TIMEOUT_MS).toBe(30_000);
    expect(loadConfig({}).BODY_LIMIT_BYTES).toBe(1_048_576);
  });
});
