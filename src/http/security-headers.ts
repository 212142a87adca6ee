// The HTTP surface every answer shares (OWASP secure headers): HSTS (browsers honour it only over HTTPS,
// which the TLS-terminating proxy provides), nosniff, no framing, no referrer; a strict Content Security
// Policy on HTML (the dashboard under /dashboard and the payment return pages); and CORS closed except
// for tokenization with a publishable key (POST /v1/payment_methods from a shop's page, as Stripe.js
// does), which answers the browser's preflight and allows any origin, never credentials.
import type { FastifyInstance, FastifyRequest } from 'fastify';

export const HSTS = 'max-age=63072000; includeSubDomains';

/** No inline script or style, nothing from other origins, no framing: the dashboard ships its own files. */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The one cross-origin call the API takes: a browser tokenizing a card with a publishable key. */
export const TOKENIZATION_PATH = '/v1/payment_methods';
const CORS_ALLOWED_HEADERS = 'Authorization, Content-Type, Idempotency-Key, Stripe-Version';

function isPublishableTokenization(request: FastifyRequest): boolean {
  if (request.url.split('?')[0] !== TOKENIZATION_PATH) return false;
  if (request.method === 'OPTIONS') return true;
  return request.method === 'POST' && /^Bearer\s+pk_/i.test(request.headers.authorization ?? '');
}

export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('Strict-Transport-Security', HSTS);
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('X-Frame-Options', 'DENY');
    reply.header('Referrer-Policy', 'no-referrer');
    const type = String(reply.getHeader('content-type') ?? '');
    if (type.startsWith('text/html') || request.url.startsWith('/dashboard')) {
      reply.header('Content-Security-Policy', DASHBOARD_CSP);
    }
    if (isPublishableTokenization(request)) reply.header('Access-Control-Allow-Origin', '*');
    done(null, payload);
  });

  // The browser's preflight for tokenization. Any other path has no OPTIONS route: a 404 without CORS
  // headers, so browsers refuse cross-origin calls with secret keys.
  app.options(TOKENIZATION_PATH, { schema: { hide: true } }, async (_request, reply) => {
    reply
      .code(204)
      .header('Access-Control-Allow-Methods', 'POST')
      .header('Access-Control-Allow-Headers', CORS_ALLOWED_HEADERS)
      .header('Access-Control-Max-Age', '600');
    return reply.send();
  });
}
