// Owns assembling and starting the Stripe emulator: a small fastify app with the /v1 API, the shared
// /_emulator control API, the 3-D Secure page, webhooks and optional persistence. The composition
// root (embedded mode) and `payctl emulator stripe` both start it through startStripeEmulator.
import { createHash } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyRequest } from 'fastify';
import qs from 'qs';
import type { Clock } from '../../clock.js';
import { fileTypeOf } from '../../modules/files/formats.js';
import type { Logger } from '../../observability/logger.js';
import { registerControlRoutes, targetWants, type WebhookTarget } from '../shared/control-routes.js';
import { emulatorClock, nowSeconds } from '../shared/emulator-clock.js';
import { FaultInjector, installFaultHook } from '../shared/faults.js';
import type { Journal } from '../shared/journal.js';
import { MULTIPART_BODY_LIMIT, readMultipart } from '../shared/multipart.js';
import { randomToken } from '../shared/random-id.js';
import { WebhookDelivery } from '../shared/webhook-delivery.js';
import { decideOverdueDisputes } from './disputes.js';
import { errorJson, faultError } from './errors.js';
import { type ApiDeps, registerApiRoute, renderResponse } from './http.js';
import { IdempotencyTable } from './idempotency.js';
import { openPersistence } from './persistence.js';
import type { RenderContext } from './render.js';
import { renderEvent } from './render-money.js';
import { balanceRoutes } from './routes/balance.js';
import { chargeRoutes } from './routes/charges.js';
import { disputeRoutes } from './routes/disputes.js';
import { fileRoutes, type UploadedFile } from './routes/files.js';
import { paymentIntentRoutes } from './routes/payment-intents.js';
import { paymentMethodRoutes } from './routes/payment-methods.js';
import { registerRedirectRoutes } from './routes/redirect.js';
import { failDueRefunds, refundRoutes } from './routes/refunds.js';
import { emulatorState } from './state.js';
import type { JournalEntry } from './store.js';
import { StripeStore } from './store.js';
import { STRIPE_WEBHOOK_USER_AGENT, stripeSigner } from './webhooks.js';

/** The API version stamped on events that no request caused (the SDK's own default otherwise). */
export const EMULATOR_API_VERSION = '2026-10-28.endive';

export interface StripeEmulatorOptions {
  port: number;
  host?: string;
  /** Keep state in `<dataDir>/stripe-emulator.jsonl` across restarts. */
  dataDir?: string;
  /** An adjustable clock makes POST /_emulator/clock work; embedded mode passes the service's. */
  clock?: Clock;
  logger?: Logger;
  /** The URL shoppers reach the emulator at, for 3-D Secure pages (default: the listen address). */
  publicUrl?: string;
  webhookRetryDelaysMs?: readonly number[];
}

export interface StripeEmulator {
  url: string;
  port: number;
  clock: Clock;
  faults: FaultInjector;
  setWebhookTarget(target: WebhookTarget | null): void;
  close(): Promise<void>;
}

const QS_OPTIONS = { depth: 10, arrayLimit: 100, parameterLimit: 2000 };

export async function startStripeEmulator(options: StripeEmulatorOptions): Promise<StripeEmulator> {
  const host = options.host ?? '127.0.0.1';
  const clock = emulatorClock(options.clock);
  const store = new StripeStore();
  const idempotency = new IdempotencyTable();
  const faults = new FaultInjector();
  const delivery = new WebhookDelivery({
    sign: stripeSigner(clock),
    userAgent: STRIPE_WEBHOOK_USER_AGENT,
    retryDelaysMs: options.webhookRetryDelaysMs,
    logger: options.logger,
  });
  let baseUrl = '';
  const renderContext = (now: number): RenderContext => ({
    store,
    now,
    baseUrl,
    pendingWebhooks: delivery.enabled() ? 1 : 0,
  });
  store.onEvent = (event) => {
    const target = delivery.currentTarget();
    if (target && delivery.enabled() && targetWants(target, event.type)) {
      delivery.enqueue(JSON.stringify(renderEvent(event, renderContext(event.created))));
    }
  };
  const deps: ApiDeps = {
    store,
    idempotency,
    faults,
    clock,
    renderContext,
    apiVersion: EMULATOR_API_VERSION,
    logger: options.logger,
  };
  const journal: Journal<JournalEntry> | null = options.dataDir
    ? openPersistence(
        options.dataDir,
        store,
        idempotency,
        (entry) => renderResponse(deps, entry.response!, entry.account, entry.created),
        nowSeconds(clock),
      )
    : null;

  const app = Fastify({
    logger: false,
    forceCloseConnections: true,
    bodyLimit: 1024 * 1024,
    routerOptions: { ignoreTrailingSlash: true, querystringParser: (query) => qs.parse(query, QS_OPTIONS) },
  });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      try {
        done(null, qs.parse(body as string, QS_OPTIONS));
      } catch (error) {
        done(error as Error, undefined);
      }
    },
  );
  // File uploads (the SDK's files.create): the `file` part becomes an UploadedFile beside the fields.
  app.addContentTypeParser(
    'multipart/form-data',
    { parseAs: 'buffer', bodyLimit: MULTIPART_BODY_LIMIT },
    async (request: FastifyRequest, body: Buffer) => {
      const { fields, files } = await readMultipart(body, String(request.headers['content-type']));
      const params: Record<string, unknown> = { ...fields };
      for (const file of files) {
        params[file.field] = {
          kind: 'uploaded_file',
          filename: file.filename,
          size: file.bytes.byteLength,
          type: fileTypeOf(file.bytes),
          sha256: createHash('sha256').update(file.bytes).digest('hex'),
        } satisfies UploadedFile;
      }
      return params;
    },
  );
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('Request-Id', `req_${randomToken(14)}`);
  });
  // Faults act on the provider API only; the control API and the shopper's pages stay reliable.
  installFaultHook(app, faults, {
    apiPrefixes: ['/v1/'],
    answer: (status) => ({ body: errorJson(faultError(status)) }),
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?', 1)[0];
    reply
      .code(404)
      .type('application/json')
      .send(
        errorJson({
          type: 'invalid_request_error',
          message: `Unrecognized request URL (${request.method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
        }),
      );
  });
  app.setErrorHandler((error: FastifyError, _request, reply) => {
    const status =
      error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) options.logger?.error({ err: error }, 'stripe emulator request failed');
    reply
      .code(status)
      .type('application/json')
      .send(
        errorJson(
          status === 500
            ? { type: 'api_error', message: 'An unknown error occurred in the Stripe emulator.' }
            : { type: 'invalid_request_error', message: `Invalid request: ${error.message}` },
        ),
      );
  });

  const routes = [
    ...paymentMethodRoutes(store),
    ...paymentIntentRoutes(store, () => baseUrl),
    ...chargeRoutes(store),
    ...refundRoutes(store),
    ...disputeRoutes(store),
    ...fileRoutes(store),
    ...balanceRoutes(store),
  ];
  for (const route of routes) registerApiRoute(app, deps, route);
  registerRedirectRoutes(app, store, clock, EMULATOR_API_VERSION);

  const runDue = () => {
    const now = nowSeconds(clock);
    decideOverdueDisputes(store, now, EMULATOR_API_VERSION);
    failDueRefunds(store, now, EMULATOR_API_VERSION);
    idempotency.sweep(now);
  };
  registerControlRoutes(app, {
    faults,
    clock,
    state: (types) =>
      emulatorState(
        { store, idempotency, faults, delivery, renderContext: renderContext(nowSeconds(clock)) },
        types,
      ),
    webhookTarget: () => delivery.currentTarget(),
    setWebhookTarget: (target) => delivery.setTarget(target),
    clockMoved: runDue,
  });

  await app.listen({ port: options.port, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const listenHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const url = `http://${listenHost.includes(':') ? `[${listenHost}]` : listenHost}:${port}`;
  baseUrl = options.publicUrl?.replace(/\/$/, '') ?? url;
  // The clock may also be moved from outside (the service's /_test/clock), so deadlines are polled too.
  const timer = setInterval(runDue, 1000);
  timer.unref();

  return {
    url,
    port,
    clock,
    faults,
    setWebhookTarget: (target) => delivery.setTarget(target),
    async close() {
      clearInterval(timer);
      delivery.close();
      await app.close();
      journal?.close();
    },
  };
}
