// Owns assembling and starting the PayPal emulator: a small fastify app speaking PayPal's REST wire
// format (/v1/oauth2/token, /v2/checkout/orders, /v2/payments, disputes, transaction search), the
// shared /_emulator control API, the payer's approval page, signed webhooks and optional persistence.
// The composition root (embedded mode) and `payctl emulator paypal` both start it here.
import Fastify, { type FastifyError, type FastifyRequest } from 'fastify';
import type { Clock } from '../../clock.js';
import { fileTypeOf } from '../../modules/files/formats.js';
import type { Logger } from '../../observability/logger.js';
import { registerControlRoutes, targetWants, type WebhookTarget } from '../shared/control-routes.js';
import { emulatorClock } from '../shared/emulator-clock.js';
import { FaultInjector } from '../shared/faults.js';
import type { Journal } from '../shared/journal.js';
import { MULTIPART_BODY_LIMIT, readMultipart } from '../shared/multipart.js';
import { WebhookDelivery } from '../shared/webhook-delivery.js';
import { issueToken } from './auth.js';
import { loadSigningIdentity } from './certificate.js';
import type { Ctx } from './context.js';
import { decideOverdueDisputes } from './disputes.js';
import { debugId, faultBody, invalidRequest, PayPalApiError } from './errors.js';
import { registerApiRoute } from './http.js';
import { RequestIdTable } from './idempotency.js';
import { openPersistence } from './persistence.js';
import type { RenderContext } from './render.js';
import { DEFAULT_REPORTING_DELAY_SECONDS } from './reporting.js';
import { accountRoutes } from './routes/account.js';
import { registerCheckoutRoutes } from './routes/checkout.js';
import { orderRoutes } from './routes/orders.js';
import { paymentRoutes } from './routes/payments.js';
import { emulatorState } from './state.js';
import { isoTime, type JournalEntry, PayPalStore } from './store.js';
import { eventBody, PAYPAL_WEBHOOK_USER_AGENT, paypalSigner } from './webhooks.js';

export const EMBEDDED_PAYPAL_CLIENT_ID = 'embedded-emulator-client';
export const EMBEDDED_PAYPAL_CLIENT_SECRET = 'embedded-emulator-secret';

export interface PayPalEmulatorOptions {
  port: number;
  host?: string;
  /** An adjustable clock makes POST /_emulator/clock work; embedded mode passes the service's. */
  clock: Clock;
  logger: Logger;
  /** Keep state in `<dataDir>/paypal-emulator.jsonl` and the signing key beside it. */
  dataDir?: string;
  /** The URL payers reach the emulator at, for the approval page (default: the listen address). */
  publicUrl?: string;
  webhookRetryDelaysMs?: readonly number[];
  /** Longest delay before a transaction appears in transaction search (default 3 h; 0: at once). */
  reportingDelaySeconds?: number;
}

export interface PayPalEmulator {
  url: string;
  port: number;
  clock: Clock;
  faults: FaultInjector;
  /** The URL webhooks name in `paypal-cert-url`. */
  certUrl: string;
  /** `secret` is the PayPal webhook id the signature covers. */
  setWebhookTarget(target: WebhookTarget | null): void;
  close(): Promise<void>;
}

const API_PREFIXES = ['/v1/', '/v2/'];
const CERT_PREFIX = '/v1/notifications/certs/';

export async function startPayPalEmulator(options: PayPalEmulatorOptions): Promise<PayPalEmulator> {
  const host = options.host ?? '127.0.0.1';
  const clock = emulatorClock(options.clock);
  const identity = loadSigningIdentity(options.dataDir, clock.now());
  const store = new PayPalStore();
  const idempotency = new RequestIdTable();
  const faults = new FaultInjector();
  const render: RenderContext = { store, apiUrl: '', publicUrl: '' };
  const certUrl = () => `${render.apiUrl}${CERT_PREFIX}${identity.certName}`;
  const delivery = new WebhookDelivery({
    sign: paypalSigner(clock, () => ({ privateKey: identity.privateKey, certUrl: certUrl() })),
    userAgent: PAYPAL_WEBHOOK_USER_AGENT,
    retryDelaysMs: options.webhookRetryDelaysMs,
    logger: options.logger,
  });
  const context = (now: Date = clock.now()): Ctx => ({
    store,
    now,
    render,
    emit(account, input) {
      const { id, body } = eventBody(input, render.apiUrl, now);
      store.insert({
        kind: 'event',
        id,
        account,
        event_type: input.event_type,
        body,
        create_time: isoTime(now),
      });
      const target = delivery.currentTarget();
      if (target && delivery.enabled() && targetWants(target, input.event_type)) delivery.enqueue(body);
    },
  });
  const journal: Journal<JournalEntry> | null = options.dataDir
    ? openPersistence(options.dataDir, store, idempotency, clock.now().getTime())
    : null;

  const app = Fastify({
    logger: false,
    forceCloseConnections: true,
    bodyLimit: 1024 * 1024,
    routerOptions: { ignoreTrailingSlash: true },
  });
  // PayPal's SDKs send `{}` or nothing on capture and void; an empty JSON body is an empty object.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = (body as string).trim();
    if (!text) return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch {
      const error = invalidRequest('MALFORMED_REQUEST_JSON', 'The request JSON is not well formed.');
      done(Object.assign(new Error(error.message), { statusCode: 400, paypal: error }), undefined);
    }
  });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );
  // provide-evidence with documents: PayPal's JSON `input` part, and each `evidence_file` part as its
  // name, size and format (the emulator keeps no bytes).
  app.addContentTypeParser(
    'multipart/form-data',
    { parseAs: 'buffer', bodyLimit: MULTIPART_BODY_LIMIT },
    async (request: FastifyRequest, body: Buffer) => {
      const { fields, files: parts } = await readMultipart(body, String(request.headers['content-type']));
      // PayPal's `input` is a JSON part, which a client may send as a file part (with its content type).
      const inputPart = parts.find((part) => part.field === 'input');
      const inputText = fields['input'] ?? (inputPart ? Buffer.from(inputPart.bytes).toString('utf8') : '');
      const files = parts.filter((part) => part.field !== 'input');
      let input: unknown = {};
      try {
        input = inputText ? JSON.parse(inputText) : {};
      } catch {
        const error = invalidRequest('MALFORMED_REQUEST_JSON', 'The `input` part is not well-formed JSON.');
        throw Object.assign(new Error(error.message), { statusCode: 400, paypal: error });
      }
      return {
        ...(typeof input === 'object' && input !== null ? input : {}),
        evidence_files: files.map((file) => ({
          name: file.filename,
          size: file.bytes.byteLength,
          type: fileTypeOf(file.bytes) ?? 'unsupported',
        })),
      };
    },
  );
  app.addHook('onRequest', async (request, reply) => {
    reply.header('paypal-debug-id', debugId());
    // Faults act on the provider API only; the control API, the payer's page and the certificate stay reliable.
    if (!API_PREFIXES.some((prefix) => request.url.startsWith(prefix)) || request.url.startsWith(CERT_PREFIX))
      return;
    if (faults.beforeRequest(request, reply, (status) => ({ body: faultBody(status) }))) return reply;
  });
  app.setNotFoundHandler((_request, reply) => {
    reply
      .code(404)
      .type('application/json')
      .send(JSON.stringify(new PayPalApiError(404, []).body()));
  });
  app.setErrorHandler((error: FastifyError & { paypal?: PayPalApiError }, _request, reply) => {
    const status =
      error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) options.logger.error({ err: error }, 'paypal emulator request failed');
    const paypal =
      error.paypal ??
      new PayPalApiError(
        status,
        status === 500 ? [] : [{ issue: 'INVALID_REQUEST', description: error.message }],
      );
    reply.code(status).type('application/json').send(JSON.stringify(paypal.body()));
  });

  app.post('/v1/oauth2/token', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const answer = issueToken(
      request.headers.authorization,
      body['grant_type'],
      identity.tokenKey,
      clock.now(),
    );
    return reply.code(answer.status).type('application/json').send(JSON.stringify(answer.body));
  });
  app.get(`${CERT_PREFIX}:name`, async (request, reply) => {
    const { name } = request.params as { name: string };
    if (name !== identity.certName) return reply.code(404).type('text/plain').send('certificate not found');
    return reply.type('application/x-pem-file').send(identity.certificatePem);
  });
  const deps = { idempotency, faults, clock, tokenKey: identity.tokenKey, logger: options.logger };
  const routes = [
    ...orderRoutes(context),
    ...paymentRoutes(context),
    ...accountRoutes(context, {
      reportingDelaySeconds: options.reportingDelaySeconds ?? DEFAULT_REPORTING_DELAY_SECONDS,
      certificatePem: identity.certificatePem,
      certName: identity.certName,
    }),
  ];
  for (const route of routes) registerApiRoute(app, deps, route);
  registerCheckoutRoutes(app, () => context());

  const runDue = () => {
    const ctx = context();
    decideOverdueDisputes(ctx);
    idempotency.sweep(ctx.now.getTime());
  };
  registerControlRoutes(app, {
    faults,
    clock,
    state: (types) =>
      emulatorState({ store, idempotency, faults, delivery, render, now: clock.now() }, types),
    webhookTarget: () => delivery.currentTarget(),
    setWebhookTarget: (target) => delivery.setTarget(target),
    clockMoved: runDue,
  });

  await app.listen({ port: options.port, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const listenHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const url = `http://${listenHost.includes(':') ? `[${listenHost}]` : listenHost}:${port}`;
  render.apiUrl = url;
  render.publicUrl = options.publicUrl?.replace(/\/$/, '') ?? url;
  // The clock may also be moved from outside (the service's /_test/clock), so deadlines are polled too.
  const timer = setInterval(runDue, 1000);
  timer.unref();

  return {
    url,
    port,
    clock,
    faults,
    certUrl: certUrl(),
    setWebhookTarget: (target) => delivery.setTarget(target),
    async close() {
      clearInterval(timer);
      delivery.close();
      await app.close();
      journal?.close();
    },
  };
}
