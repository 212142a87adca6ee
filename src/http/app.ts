// Builds the fastify server: body decoding (JSON and Stripe-style bracket forms to one object), request
// ids, Stripe-shaped errors for every failure including unknown routes, metrics and tracing hooks, and
// the OpenAPI document. Modules add their routes through the Router this returns.
import { randomBytes } from 'node:crypto';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import type { Span } from '@opentelemetry/api';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyRequest,
  LogController,
} from 'fastify';
import qs from 'qs';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Tracing } from '../observability/tracing.js';
import { normalizeIp } from './client-address.js';
import { registerDashboard } from './dashboard.js';
import { AppError, internalError, serviceUnavailable } from './errors.js';
import { ExpandRegistry } from './expand.js';
import type { IdempotencyService } from './idempotency.js';
import type { Authenticators } from './principals.js';
import { Router } from './route.js';
import { registerSecurityHeaders } from './security-headers.js';

export interface HttpOptions {
  logger: Logger;
  metrics: Metrics;
  tracing: Tracing;
  authenticators: Authenticators;
  bodyLimit: number;
  /** Longest a client may take to send a whole request (slow-client protection); 0 turns it off. */
  requestTimeoutMs: number;
  trustedProxies: readonly string[];
  /** Blocked addresses and the brute-force count (absent in tools that build the app without them). */
  clientGuard?: ClientGuard | undefined;
  /** Tells database outages apart from bugs so they answer 503, not 500. */
  isDatabaseUnavailable(error: unknown): boolean;
  idempotency?: IdempotencyService;
  /** The built operator dashboard (DASHBOARD_DIR); dist/dashboard in the project folder when unset. */
  dashboardDir?: string | undefined;
}

export interface ClientGuard {
  /** When the address is blocked now: seconds until the block ends (undefined: until unblocked). */
  blocked(ip: string): { retryAfterSeconds: number | undefined } | undefined;
  recordFailure(ip: string, reason: string): Promise<void>;
}

/**
 * 401s that count toward runbook 003's brute-force block: a credential was presented and is not one.
 * A missing credential is a misconfigured client, and a revoked or expired key is a real key that was
 * once given out; neither is guessing.
 */
const GUESSED_CREDENTIAL_CODES = new Set([
  'api_key_invalid',
  'invalid_credentials',
  'totp_invalid',
  'operator_auth_invalid',
]);

/** The client's address (X-Forwarded-For only through TRUSTED_PROXIES), one text per address. */
export const clientIp = (request: FastifyRequest): string => normalizeIp(request.ip) ?? request.ip;

export interface HttpApp {
  app: FastifyInstance;
  router: Router;
  expand: ExpandRegistry;
}

declare module 'fastify' {
  interface FastifyRequest {
    span?: Span | undefined;
    startedAt: bigint;
  }
}

const QS_OPTIONS = { depth: 5, arrayLimit: 100, parameterLimit: 1000, strictDepth: true } as const;

export const newRequestId = () => `req_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;

export async function buildHttpApp(options: HttpOptions): Promise<HttpApp> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // One line per request is written by our onResponse hook, with route template and duration.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    genReqId: newRequestId,
    requestIdHeader: false,
    bodyLimit: options.bodyLimit,
    requestTimeout: options.requestTimeoutMs,
    trustProxy: options.trustedProxies.length > 0 ? [...options.trustedProxies] : false,
    forceCloseConnections: 'idle',
    routerOptions: {
      ignoreTrailingSlash: true,
      // Query strings use Stripe's bracket notation too: expand[]=x, created[gt]=1700000000.
      querystringParser: (query) => qs.parse(query, QS_OPTIONS),
    },
    ajv: { customOptions: { strict: false } },
  });

  // Validation is done by zod in the Router; the JSON schemas only describe routes for OpenAPI.
  app.setValidatorCompiler(() => (data) => ({ value: data }));

  // Only JSON and Stripe-style forms are accepted; anything else is a 415.
  app.removeContentTypeParser(['text/plain', 'application/x-www-form-urlencoded']);
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      try {
        // The runbooks send JSON with plain `curl -d '{...}'`, which labels it a form: a body that is
        // a JSON object is read as one (no form body starts with `{`, and a form can express the same
        // object in bracket notation anyway, so nothing new is accepted).
        const json = jsonObjectOrUndefined(body as string);
        if (json) {
          done(null, json);
          return;
        }
        // Stripe's bracket notation: metadata[k]=v, expand[]=x, items[0][price]=p.
        done(
          null,
          qs.parse(body as string, { depth: 5, arrayLimit: 100, parameterLimit: 1000, strictDepth: true }),
        );
      } catch (error) {
        done(
          new AppError(
            400,
            'invalid_request_error',
            'parameter_invalid',
            `Invalid form body: ${(error as Error).message}`,
          ),
        );
      }
    },
  );

  // Draining: answers sent after close() began ask the client to close its keep-alive connection, so
  // server.close() is not left waiting for sockets that finished their last request (Node closes only
  // the connections idle at the moment close() starts).
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('Connection', 'close');
    done(null, payload);
  });

  app.addHook('onRequest', (request, reply, done) => {
    request.startedAt = process.hrtime.bigint();
    reply.header('Request-Id', request.id);
    const span = options.tracing.startRequestSpan(`${request.method}`, {
      'http.request.method': request.method,
      'url.path': request.url.split('?')[0] ?? '',
      'request.id': String(request.id),
    });
    request.span = span;
    options.tracing.runWithSpan(span, done);
  });

  const guard = options.clientGuard;
  if (guard) {
    // A blocked address is refused before anything else runs (authentication included). Health probes
    // come from the platform, never from a client, and stay answered.
    app.addHook('onRequest', async (request, reply) => {
      if (request.url.startsWith('/health')) return;
      const block = guard.blocked(clientIp(request));
      if (!block) return;
      const seconds = block.retryAfterSeconds;
      return reply
        .code(403)
        .header('Stripe-Should-Retry', 'false')
        .headers(seconds === undefined ? {} : { 'Retry-After': String(seconds) })
        .send(
          new AppError(
            403,
            'invalid_request_error',
            'ip_blocked',
            'Requests from this address are blocked (too many failed authentications, or by an operator).',
          ).toBody(),
        );
    });
  }
  registerSecurityHeaders(app);

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const seconds = Number(process.hrtime.bigint() - request.startedAt) / 1e9;
    options.metrics.httpDuration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      seconds,
    );
    request.span?.updateName(`${request.method} ${route}`);
    options.tracing.endRequestSpan(request.span, reply.statusCode);
    request.log.info(
      {
        method: request.method,
        route,
        status: reply.statusCode,
        // request_id comes from the request logger's bindings; repeating it duplicates the JSON key.
        duration_ms: Math.round(seconds * 1e5) / 100,
      },
      'request completed',
    );
    done();
  });

  app.setErrorHandler(async (error: FastifyError | AppError | Error, request, reply) => {
    const appError = toAppError(error, options);
    if (appError.status >= 500) {
      request.log.error({ err: error }, 'request failed');
    }
    if (guard && appError.status === 401 && GUESSED_CREDENTIAL_CODES.has(appError.code ?? '')) {
      // Awaited, so the failure that crosses the threshold has blocked the address when it is answered.
      await guard
        .recordFailure(clientIp(request), appError.code as string)
        .catch((failure: unknown) =>
          request.log.warn({ err: failure }, 'could not count a failed authentication'),
        );
    }
    if (appError.shouldRetry !== undefined) reply.header('Stripe-Should-Retry', String(appError.shouldRetry));
    for (const [name, value] of Object.entries(appError.headers)) reply.header(name, value);
    return reply.code(appError.status).send(appError.toBody());
  });

  app.setNotFoundHandler((request, reply) => {
    reply
      .code(404)
      .send(
        new AppError(
          404,
          'invalid_request_error',
          'route_not_found',
          `Unrecognized request URL (${request.method}: ${request.url.split('?')[0]}).`,
        ).toBody(),
      );
  });

  // multipart/form-data is read only by the routes that take a file (readUpload, after authentication);
  // every other route refuses it with a 415 (Router).
  await app.register(multipart);

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Payment service API',
        version: '2025-01-01',
        description: 'Stripe-shaped merchant API (/v1), operator API (/admin) and health endpoints.',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'Secret, restricted or publishable key' },
          operator: { type: 'http', scheme: 'bearer', description: 'Operator session or API token' },
        },
      },
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  // The operator dashboard's files; it talks to the /admin routes below like any other client.
  await registerDashboard(app, options.dashboardDir);

  const expand = new ExpandRegistry();
  const router = new Router(
    app,
    options.authenticators,
    expand,
    options.isDatabaseUnavailable,
    options.idempotency,
  );
  return { app, router, expand };
}

/** The body as an object when it is a JSON object, else undefined (then it is decoded as a form). */
function jsonObjectOrUndefined(body: string): Record<string, unknown> | undefined {
  if (!body.trimStart().startsWith('{')) return undefined;
  try {
    // As fastify's own JSON parser does: no `__proto__` or `constructor` keys (prototype poisoning).
    const parsed: unknown = JSON.parse(body, (key, value) => {
      if (key === '__proto__' || key === 'constructor') throw new SyntaxError(`forbidden key ${key}`);
      return value;
    });
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function toAppError(error: FastifyError | AppError | Error, options: HttpOptions): AppError {
  if (error instanceof AppError) return error;
  const fastifyError = error as FastifyError;
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError(413, 'invalid_request_error', 'body_too_large', 'The request body is too large.', {
        shouldRetry: false,
      });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError(
        415,
        'invalid_request_error',
        'unsupported_content_type',
        'Content-Type must be application/x-www-form-urlencoded or application/json.',
        { shouldRetry: false },
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError(
        400,
        'invalid_request_error',
        'invalid_json',
        'The request body is not valid JSON.',
        {
          shouldRetry: false,
        },
      );
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError(
        400,
        'invalid_request_error',
        'invalid_content_length',
        'Content-Length does not match the body.',
      );
  }
  if (error instanceof SyntaxError || fastifyError.statusCode === 400) {
    return new AppError(
      400,
      'invalid_request_error',
      'invalid_body',
      'The request body could not be decoded.',
    );
  }
  if (options.isDatabaseUnavailable(error)) {
    return serviceUnavailable(
      'The database is temporarily unavailable. Retry with the same Idempotency-Key.',
    );
  }
  return internalError();
}
