// Owns the request path of the /v1 API: authentication, idempotency, injected latency, execution,
// the after-charge faults, and writing Stripe's JSON with its headers. Route handlers stay synchronous
// over in-memory state, so a request executes atomically once it starts.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../observability/logger.js';
import { nowSeconds } from '../shared/emulator-clock.js';
import { dropConnection, type FaultInjector } from '../shared/faults.js';
import { authenticate, type Caller } from './auth.js';
import { authenticationError, errorJson, faultError, StripeApiError } from './errors.js';
import {
  fingerprint,
  type IdempotencyEntry,
  type IdempotencyTable,
  type SavedResponse,
} from './idempotency.js';
import { isRaw, type Raw } from './params.js';
import type { StoredRecord } from './records.js';
import { expand, type RenderContext, renderRecord } from './render.js';
import type { Ctx, StripeStore } from './store.js';

export interface RouteInput {
  params: Raw;
  path: Record<string, string>;
  ctx: Ctx;
  caller: Caller;
}

export interface ListResult {
  data: StoredRecord[];
  has_more: boolean;
  url: string;
}

export type RouteResult = { status?: number; record: StoredRecord } | { status?: number; list: ListResult };

export interface ApiRoute {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  handle(input: RouteInput): RouteResult;
  /** True when the request performs a charge: the *_after_charge faults act on these only. */
  charges?: (params: Raw) => boolean;
  /** Publishable keys may call this route (payment method creation from a browser). */
  publishable?: boolean;
}

export interface ApiDeps {
  store: StripeStore;
  idempotency: IdempotencyTable;
  faults: FaultInjector;
  clock: Clock;
  renderContext(now: number): RenderContext;
  apiVersion: string;
  logger?: Logger;
}

const JSON_TYPE = 'application/json; charset=utf-8';

export function renderResponse(deps: ApiDeps, saved: SavedResponse, account: string, now: number): string {
  if (saved.body !== undefined) return saved.body;
  const context = deps.renderContext(now);
  return JSON.stringify(expand(renderRecord(saved.record!, context), saved.expand ?? [], account, context));
}

function renderList(deps: ApiDeps, list: ListResult, paths: string[], account: string, now: number): string {
  const context = deps.renderContext(now);
  const wire = {
    object: 'list',
    data: list.data.map((record) => renderRecord(record, context)),
    has_more: list.has_more,
    url: list.url,
  };
  return JSON.stringify(expand(wire, paths, account, context));
}

function expandParam(params: Raw): string[] {
  const value = params['expand'];
  const items = Array.isArray(value) ? value : isRaw(value) ? Object.values(value) : value ? [value] : [];
  return items.filter((item): item is string => typeof item === 'string');
}

function send(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).header('content-type', JSON_TYPE).send(body);
}

/** Writes the answer unless an after-charge fault takes it over. */
function finish(
  deps: ApiDeps,
  route: ApiRoute,
  params: Raw,
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  body: string,
) {
  const fault = route.charges?.(params) ? deps.faults.afterCharge() : null;
  if (fault === 'drop') {
    dropConnection(request, reply);
    return reply;
  }
  if (fault === 'error') return send(reply, 500, errorJson(faultError(500)));
  return send(reply, status, body);
}

export function registerApiRoute(app: FastifyInstance, deps: ApiDeps, route: ApiRoute): void {
  app.route({
    method: route.method,
    url: route.url,
    handler: async (request, reply) => {
      const caller = authenticate(request.headers.authorization);
      if (caller instanceof StripeApiError) return send(reply, caller.status, errorJson(caller.body));
      if (caller.publishable && !route.publishable) {
        const error = authenticationError(
          'This API call cannot be made with a publishable API key. Please use a secret API key.',
        );
        return send(reply, error.status, errorJson(error.body));
      }
      const params: Raw = (route.method === 'GET' ? request.query : request.body) as Raw;
      const safeParams = isRaw(params) ? params : {};
      const header = request.headers['idempotency-key'];
      const key = route.method === 'POST' && typeof header === 'string' && header ? header : null;
      const stripeVersion = request.headers['stripe-version'];
      if (key) reply.header('Idempotency-Key', key);
      reply.header('Stripe-Version', typeof stripeVersion === 'string' ? stripeVersion : deps.apiVersion);

      let entry: IdempotencyEntry | null = null;
      if (key) {
        const path = request.url.split('?', 1)[0]!;
        const claim = deps.idempotency.claim(
          caller.account,
          key,
          { method: route.method, path, fingerprint: fingerprint(route.method, path, safeParams) },
          nowSeconds(deps.clock),
        );
        if (claim.kind !== 'new') {
          await deps.faults.delay();
          if (claim.kind === 'refused') return send(reply, claim.error.status, errorJson(claim.error.body));
          reply.header('Idempotent-Replayed', 'true');
          const body = renderResponse(deps, claim.response, caller.account, nowSeconds(deps.clock));
          return finish(deps, route, safeParams, request, reply, claim.response.status, body);
        }
        entry = claim.entry;
      }
      await deps.faults.delay();

      const now = nowSeconds(deps.clock);
      const ctx: Ctx = {
        account: caller.account,
        now,
        request: { id: String(reply.getHeader('Request-Id') ?? ''), idempotency_key: key },
        apiVersion: typeof stripeVersion === 'string' ? stripeVersion : deps.apiVersion,
      };
      let saved: SavedResponse;
      let body: string;
      try {
        const result = route.handle({
          params: safeParams,
          path: request.params as Record<string, string>,
          ctx,
          caller,
        });
        const status = result.status ?? 200;
        if ('record' in result) {
          saved = {
            status,
            record: result.record,
            ...(isRaw(params) && params['expand'] ? { expand: expandParam(safeParams) } : {}),
          };
          body = renderResponse(deps, saved, caller.account, now);
        } else {
          body = renderList(deps, result.list, expandParam(safeParams), caller.account, now);
          saved = { status, body };
        }
      } catch (error) {
        if (error instanceof StripeApiError) {
          body = errorJson(error.body);
          if (entry && !error.saved) {
            deps.idempotency.release(entry);
            entry = null;
          }
          saved = { status: error.status, body };
        } else {
          deps.logger?.error({ err: error, url: request.url }, 'stripe emulator route failed');
          body = errorJson({
            type: 'api_error',
            message: 'An unknown error occurred in the Stripe emulator.',
          });
          saved = { status: 500, body };
        }
      }
      if (entry) deps.idempotency.save(entry, saved);
      return finish(deps, route, safeParams, request, reply, saved.status, body);
    },
  });
}
