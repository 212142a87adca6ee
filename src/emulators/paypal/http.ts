// Owns the request path of PayPal's REST API: the Bearer token, `PayPal-Request-Id`, injected latency,
// execution, the after-charge faults, and writing PayPal's JSON. Handlers are synchronous over
// in-memory state, so a request executes atomically once it starts.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../observability/logger.js';
import { dropConnection, type FaultInjector } from '../shared/faults.js';
import { authenticate, type Caller } from './auth.js';
import { faultBody, INVALID_TOKEN_BODY, invalidRequest, PayPalApiError } from './errors.js';
import type { RequestIdEntry, RequestIdTable, SavedAnswer } from './idempotency.js';

export interface RouteInput {
  body: Record<string, unknown>;
  query: Record<string, unknown>;
  params: Record<string, string>;
  caller: Caller;
  now: Date;
  /** `Prefer: return=representation` was sent (PayPal answers 204 without it on some calls). */
  wantsRepresentation: boolean;
}

export interface RouteAnswer {
  status: number;
  body?: unknown;
}

export interface PayPalRoute {
  method: 'GET' | 'POST';
  url: string;
  /** Moves money: the *_after_charge faults act on these only. */
  charges?: boolean;
  handle(input: RouteInput): RouteAnswer;
}

export interface HttpDeps {
  idempotency: RequestIdTable;
  faults: FaultInjector;
  clock: Clock;
  tokenKey: Buffer;
  logger?: Logger;
}

const JSON_TYPE = 'application/json';

function send(reply: FastifyReply, answer: SavedAnswer): FastifyReply {
  if (answer.status === 204) return reply.code(204).send();
  return reply.code(answer.status).header('content-type', JSON_TYPE).send(answer.body);
}

function finish(
  deps: HttpDeps,
  route: PayPalRoute,
  request: FastifyRequest,
  reply: FastifyReply,
  answer: SavedAnswer,
) {
  const fault = route.charges ? deps.faults.afterCharge() : null;
  if (fault === 'drop') {
    dropConnection(request, reply);
    return reply;
  }
  if (fault === 'error') return send(reply, { status: 500, body: faultBody(500) });
  return send(reply, answer);
}

function execute(deps: HttpDeps, route: PayPalRoute, input: RouteInput, url: string): SavedAnswer {
  try {
    const result = route.handle(input);
    return { status: result.status, body: result.body === undefined ? '' : JSON.stringify(result.body) };
  } catch (error) {
    if (error instanceof PayPalApiError) return { status: error.status, body: JSON.stringify(error.body()) };
    deps.logger?.error({ err: error, url }, 'paypal emulator route failed');
    return { status: 500, body: faultBody(500) };
  }
}

export function registerApiRoute(app: FastifyInstance, deps: HttpDeps, route: PayPalRoute): void {
  app.route({
    method: route.method,
    url: route.url,
    handler: async (request, reply) => {
      const caller = authenticate(request.headers.authorization, deps.tokenKey, deps.clock.now());
      if (!caller) return reply.code(401).header('content-type', JSON_TYPE).send(INVALID_TOKEN_BODY);
      const header = request.headers['paypal-request-id'];
      const requestId = route.method === 'POST' && typeof header === 'string' && header ? header : null;
      let entry: RequestIdEntry | null = null;
      if (requestId) {
        const path = request.url.split('?', 1)[0]!;
        const claim = await deps.idempotency.claim(`${caller.account} ${path}`, requestId, () =>
          deps.clock.now().getTime(),
        );
        if (claim.kind === 'too_long') {
          const error = invalidRequest(
            'INVALID_STRING_MAX_LENGTH',
            'The value of a field is too long.',
            'PayPal-Request-Id',
            'header',
          );
          return send(reply, { status: 400, body: JSON.stringify(error.body()) });
        }
        if (claim.kind === 'replay') {
          await deps.faults.delay();
          return finish(deps, route, request, reply, claim.answer);
        }
        entry = claim.entry;
      }
      await deps.faults.delay();
      const body = request.body;
      const input: RouteInput = {
        body:
          body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {},
        query: (request.query ?? {}) as Record<string, unknown>,
        params: request.params as Record<string, string>,
        caller,
        now: deps.clock.now(),
        wantsRepresentation: /return=representation/i.test(String(request.headers.prefer ?? '')),
      };
      const answer = execute(deps, route, input, request.url);
      if (entry) {
        if (answer.status < 300) deps.idempotency.save(entry, answer);
        else deps.idempotency.release(entry);
      }
      return finish(deps, route, request, reply, answer);
    },
  });
}
