// Defines a route once: its zod input (the single source for validation and the OpenAPI document),
// its authentication, and its handler. Form and JSON bodies reach the handler as the same object.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AuditOrigin } from '../modules/audit/audit.js';
import { AppError, internalError, permissionDenied } from './errors.js';
import type { ExpandRegistry } from './expand.js';
import {
  canonicalJson,
  type IdempotencyHandle,
  type IdempotencyService,
  keepsKeyFree,
} from './idempotency.js';
import { expandList } from './params.js';
import type { Authenticators, MerchantPrincipal, OperatorPrincipal, RequestInfo } from './principals.js';
import { parseOrThrow } from './validation.js';

type Shape = z.ZodRawShape;

export type AuthMode = 'secret' | 'secret_or_publishable' | 'operator' | 'none';

interface BaseContext<I, P> {
  input: I;
  params: P;
  info: RequestInfo;
  request: FastifyRequest;
  reply: FastifyReply;
}

export interface MerchantContext<I, P> extends BaseContext<I, P> {
  merchant: MerchantPrincipal;
  /** Present when the POST carried an Idempotency-Key; multi-phase handlers checkpoint through it. */
  idempotency: IdempotencyHandle | undefined;
}

export interface OperatorContext<I, P> extends BaseContext<I, P> {
  operator: OperatorPrincipal;
}

interface RouteCommon<IS extends Shape, PS extends Shape> {
  method: 'GET' | 'POST' | 'DELETE' | 'PATCH';
  url: string;
  summary: string;
  tags: string[];
  /** Query for GET and DELETE, body (plus query) for POST and PATCH. */
  input?: IS;
  params?: PS;
  /** Response status on success (200 unless set). */
  status?: number;
  /** Accept inputs not in the schema (only for JSON passthrough endpoints such as flags). */
  passthrough?: boolean;
  /** Takes multipart/form-data, which the handler reads itself (file uploads); no other route does. */
  multipart?: boolean;
}

type In<IS extends Shape> = z.output<z.ZodObject<IS>>;

export interface MerchantRoute<IS extends Shape, PS extends Shape> extends RouteCommon<IS, PS> {
  auth: 'secret' | 'secret_or_publishable';
  /** Restricted-key scope this route needs, e.g. `customers:write`. */
  scope: string;
  /** The handler resumes from its recovery point after a crash (multi-phase payment flows). */
  resumable?: boolean;
  /**
   * How a successful answer is kept for idempotent replays when it carries a secret shown once (a
   * webhook endpoint's signing secret): `seal` before it is stored in idempotency_keys, `open` when
   * it is replayed. Without it the answer is stored as sent.
   */
  storedAnswer?: { seal(answer: unknown): unknown; open(stored: unknown): unknown };
  handler(ctx: MerchantContext<In<IS>, In<PS>>): Promise<unknown>;
}

export interface OperatorRoute<IS extends Shape, PS extends Shape> extends RouteCommon<IS, PS> {
  /** Operator permission from runbook 003's roles, e.g. `payment:configure`. */
  permission: string;
  /**
   * Honours an Idempotency-Key as merchant POSTs do, per operator: for actions that move money (a
   * refund sent twice by a retry or a double click must happen once). The answer is stored as sent, so
   * never on a route whose answer carries a secret shown once.
   */
  idempotent?: boolean;
  handler(ctx: OperatorContext<In<IS>, In<PS>>): Promise<unknown>;
}

export interface PublicRoute<IS extends Shape, PS extends Shape> extends RouteCommon<IS, PS> {
  handler(ctx: BaseContext<In<IS>, In<PS>>): Promise<unknown>;
}

declare module 'fastify' {
  interface FastifyRequest {
    merchant?: MerchantPrincipal;
    operator?: OperatorPrincipal;
  }
}

export function requestInfo(request: FastifyRequest): RequestInfo {
  return { requestId: String(request.id), ip: request.ip, userAgent: request.headers['user-agent'] };
}

/** Where an operator action came from, as the audit log records it: the one place that picks those fields. */
export function originOf(info: RequestInfo): AuditOrigin {
  return { ip: info.ip, userAgent: info.userAgent, requestId: info.requestId };
}

interface Parsed {
  input: unknown;
  params: unknown;
}

/** Reads one cookie without a cookie plugin: the session cookie is the only one the service sets. */
export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

function hasScope(principal: MerchantPrincipal, scope: string): boolean {
  if (principal.scopes === null) return true;
  const [resource] = scope.split(':');
  // A write scope implies read on the same resource.
  return principal.scopes.includes(scope) || principal.scopes.includes(`${resource}:write`);
}

function openApiSchema(schema: z.ZodType) {
  return z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' });
}

export class Router {
  constructor(
    private readonly app: FastifyInstance,
    private readonly auth: Authenticators,
    private readonly expand: ExpandRegistry,
    private readonly isOutage: (error: unknown) => boolean,
    private readonly idempotency?: IdempotencyService,
  ) {}

  merchant<IS extends Shape, PS extends Shape>(route: MerchantRoute<IS, PS>): void {
    this.add(
      route,
      route.auth,
      async (request, reply, parse) => {
        const merchant = await this.auth.merchant(request.headers.authorization);
        if (merchant.keyKind === 'publishable' && route.auth !== 'secret_or_publishable') {
          throw permissionDenied(
            'This API call cannot be made with a publishable API key. Please use a secret API key.',
            'secret_key_required',
          );
        }
        if (!hasScope(merchant, route.scope)) {
          throw permissionDenied(
            `The provided key does not have the required permissions for this endpoint (needs ${route.scope}).`,
            'insufficient_scope',
          );
        }
        request.merchant = merchant;
        const { input, params } = parse();
        const scope = { merchantId: merchant.merchantId, livemode: merchant.livemode };
        const execute = async (idempotency: IdempotencyHandle | undefined) => {
          const { expand, ...rest } = input as { expand?: string[] };
          const result = await route.handler({
            input: rest as In<IS>,
            params: params as In<PS>,
            merchant,
            info: requestInfo(request),
            request,
            reply,
            idempotency,
          });
          if (expand && expand.length > 0) await this.expand.apply(scope, result, expand);
          return result;
        };
        return this.runIdempotently(route, scope, request, { params, input }, reply, execute);
      },
      true,
    );
  }

  operator<IS extends Shape, PS extends Shape>(route: OperatorRoute<IS, PS>): void {
    this.add(
      route,
      'operator',
      async (request, reply, parse) => {
        const operator = await this.auth.operator(
          request.headers.authorization,
          readCookie(request, 'ps_session'),
        );
        if (!operator.permissions.has(route.permission)) {
          throw await this.auth.operatorDenied(
            operator,
            route.permission,
            `${route.method} ${route.url}`,
            requestInfo(request),
          );
        }
        request.operator = operator;
        const { input, params } = parse();
        const execute = () =>
          route.handler({
            input: input as In<IS>,
            params: params as In<PS>,
            operator,
            info: requestInfo(request),
            request,
            reply,
          });
        if (!route.idempotent) return execute();
        // Operators' keys live beside merchants' in idempotency_keys, under a scope no merchant id can take.
        const scope = { merchantId: `operator:${operator.operatorId}`, livemode: false };
        return this.runIdempotently(route, scope, request, { params, input }, reply, execute);
      },
      false,
    );
  }

  public<IS extends Shape, PS extends Shape>(route: PublicRoute<IS, PS>): void {
    this.add(
      route,
      'none',
      async (request, reply, parse) => {
        const { input, params } = parse();
        return route.handler({
          input: input as In<IS>,
          params: params as In<PS>,
          info: requestInfo(request),
          request,
          reply,
        });
      },
      false,
    );
  }

  /**
   * DESIGN section 5: replay, refuse a reused key, or execute once and store the answer. A request that
   * is not a POST or carries no Idempotency-Key simply executes.
   */
  private async runIdempotently(
    route: Pick<MerchantRoute<Shape, Shape>, 'method' | 'url' | 'status' | 'resumable' | 'storedAnswer'>,
    scope: { merchantId: string; livemode: boolean },
    request: FastifyRequest,
    parsed: { params: unknown; input: unknown },
    reply: FastifyReply,
    execute: (handle: IdempotencyHandle | undefined) => Promise<unknown>,
  ): Promise<unknown> {
    const key = request.headers['idempotency-key'];
    const idempotency = this.idempotency;
    if (route.method !== 'POST' || typeof key !== 'string' || !idempotency) return execute(undefined);
    const endpoint = `${route.method} ${route.url} ${canonicalJson(parsed.params)}`;
    const begun = await idempotency.begin(scope, key, endpoint, parsed.input, route.resumable === true);
    if (begun.outcome === 'replay') {
      reply.header('Idempotent-Replayed', 'true');
      reply.code(begun.status);
      const ok = begun.status < 400;
      return ok && route.storedAnswer ? route.storedAnswer.open(begun.body) : begun.body;
    }
    const { handle } = begun;
    try {
      const result = await execute(handle);
      const stored = route.storedAnswer ? route.storedAnswer.seal(result) : result;
      await idempotency.finish(handle, route.status ?? 200, stored);
      return result;
    } catch (error) {
      const appError = error instanceof AppError ? error : undefined;
      if (appError && keepsKeyFree(appError)) {
        await idempotency.release(handle, appError.releasesIdempotencyKey).catch(() => {});
      } else if (appError)
        await idempotency.finish(handle, appError.status, appError.toBody()).catch(() => {});
      else if (!this.isOutage(error)) {
        // Execution began and failed unexpectedly: the 500 is the stored answer (DESIGN section 5).
        await idempotency.finish(handle, 500, internalError().toBody()).catch(() => {});
      }
      // On a database outage nothing can be stored; the lease expires and the completer decides.
      throw error;
    }
  }

  private add<IS extends Shape, PS extends Shape>(
    route: RouteCommon<IS, PS>,
    auth: AuthMode,
    // `parse` is called by `run` after authentication, so an anonymous caller learns nothing about inputs.
    run: (request: FastifyRequest, reply: FastifyReply, parse: () => Parsed) => Promise<unknown>,
    expandable: boolean,
  ): void {
    const shape: Shape = {
      ...(route.input ?? {}),
      ...(expandable ? { expand: expandList().optional() } : {}),
    };
    const inputSchema = route.passthrough ? z.looseObject(shape) : z.strictObject(shape);
    const paramsSchema = z.object(route.params ?? {});
    const inBody = route.method === 'POST' || route.method === 'PATCH';
    this.app.route({
      method: route.method,
      url: route.url,
      schema: {
        summary: route.summary,
        tags: route.tags,
        ...(auth === 'none' ? {} : { security: [{ [auth === 'operator' ? 'operator' : 'apiKey']: [] }] }),
        ...(route.params ? { params: openApiSchema(paramsSchema) } : {}),
        ...(inBody ? { body: openApiSchema(inputSchema) } : { querystring: openApiSchema(inputSchema) }),
      },
      handler: async (request, reply) => {
        // A multipart body is never parsed into the input: a route that does not read it would
        // otherwise act on an empty input instead of refusing what it was sent.
        if (!route.multipart && request.isMultipart()) {
          throw new AppError(
            415,
            'invalid_request_error',
            'unsupported_content_type',
            'Content-Type must be application/x-www-form-urlencoded or application/json (multipart/form-data is for file uploads only).',
            { shouldRetry: false },
          );
        }
        const raw = inBody
          ? { ...(request.query as object), ...((request.body as object | null | undefined) ?? {}) }
          : (request.query as object);
        const parse = () => ({
          input: parseOrThrow(inputSchema, raw ?? {}),
          params: parseOrThrow(paramsSchema, request.params),
        });
        const result = await run(request, reply, parse);
        if (reply.statusCode === 200 && route.status) reply.code(route.status);
        return result;
      },
    });
  }
}
