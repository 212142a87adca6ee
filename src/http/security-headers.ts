// The HTTP surface every answer shares (OWASP secure headers): HSTS (browsers honour it only over HTTPS,
// which the TLS-terminating proxy provides), nosniff, no framing, no referrer; and a strict Content
// Security Policy on HTML (the dashboard under /dashboard and the payment return pages). CORS is closed
// by having no CORS headers at all, except on card tokenization (payment-methods.routes.ts).
import type { FastifyInstance } from 'fastify';

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
    done(null, payload);
  });
}
