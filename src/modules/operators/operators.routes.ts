// The operator side of /admin: login and logout, who am I, operator accounts, API tokens, audit log.
import { z } from 'zod';
import { AppError } from '../../http/errors.js';
import { boundedInteger, text } from '../../http/params.js';
import { originOf, type Router, readCookie } from '../../http/route.js';
import type { AuditService } from '../audit/audit.service.js';
import { emailSchema, passwordSchema, roleSchema } from './operators.js';
import { type OperatorsService, SELF_PERMISSION } from './operators.service.js';

const SESSION_COOKIE = 'ps_session';

export function registerOperatorRoutes(
  router: Router,
  operators: OperatorsService,
  audit: AuditService,
  secureCookies: boolean,
): void {
  const tags = ['Operators'];
  router.public({
    method: 'POST',
    url: '/admin/login',
    summary: 'Log in as an operator; returns a session token and sets the session cookie',
    tags,
    input: {
      email: emailSchema,
      password: z.string().max(256),
      /** The authenticator's code, for accounts with a second factor (else 401 `totp_required`). */
      totp: z.string().max(16).optional(),
    },
    handler: async ({ input, info, reply }) => {
      const session = await operators.login(input.email, input.password, input.totp, originOf(info));
      reply.header(
        'Set-Cookie',
        `${SESSION_COOKIE}=${session.token}; Path=/; HttpOnly; SameSite=Strict${secureCookies ? '; Secure' : ''}`,
      );
      return { object: 'operator_session', ...session };
    },
  });
  router.operator({
    method: 'POST',
    url: '/admin/logout',
    summary: 'End the current operator session',
    tags,
    permission: SELF_PERMISSION,
    handler: async ({ operator, request, info, reply }) => {
      const bearer = request.headers.authorization?.match(/^Bearer\s+(ops_\S+)$/i)?.[1];
      const token = bearer ?? readCookie(request, SESSION_COOKIE);
      if (!token?.startsWith('ops_')) {
        throw new AppError(
          400,
          'invalid_request_error',
          'not_a_session',
          'Only a session can be logged out; revoke an API token with POST /admin/tokens/:id/revoke.',
        );
      }
      await operators.logout(token, operator.operatorId, originOf(info));
      reply.header('Set-Cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
      return { object: 'operator_session', logged_out: true };
    },
  });
  router.operator({
    method: 'GET',
    url: '/admin/me',
    summary: 'The calling operator',
    tags,
    permission: SELF_PERMISSION,
    handler: async ({ operator }) => ({
      object: 'operator',
      id: operator.operatorId,
      email: operator.email,
      role: operator.role,
      permissions: [...operator.permissions].filter((permission) => permission !== SELF_PERMISSION),
      via: operator.via,
      mfa_enrolment_required: operator.mfaPending === true,
    }),
  });
  router.operator({
    method: 'GET',
    url: '/admin/operators',
    summary: 'List operator accounts',
    tags,
    permission: 'payment:configure',
    handler: async () => ({
      object: 'list',
      data: await operators.list(),
      has_more: false,
      url: '/admin/operators',
    }),
  });
  router.operator({
    method: 'POST',
    url: '/admin/operators',
    summary: 'Create an operator account',
    tags,
    permission: 'payment:configure',
    input: { email: emailSchema, password: passwordSchema, role: roleSchema },
    handler: ({ input, operator, info }) =>
      operators.create(input, { type: 'operator', id: operator.operatorId }, originOf(info)),
  });
  router.operator({
    method: 'POST',
    url: '/admin/tokens',
    summary: 'Create an operator API token for payctl (shown once)',
    tags,
    permission: 'payment:read',
    input: { name: text(100).min(1) },
    handler: ({ input, operator, info }) =>
      operators.createToken(operator.operatorId, input.name, originOf(info)),
  });
  router.operator({
    method: 'POST',
    url: '/admin/operators/:id/disable',
    summary: 'Disable an operator account; its sessions and tokens stop working at once',
    tags,
    permission: 'payment:configure',
    params: { id: text(64) },
    handler: ({ params, operator, info }) => operators.disable(params.id, operator, originOf(info)),
  });
  router.operator({
    method: 'GET',
    url: '/admin/tokens',
    summary: "List operator API tokens (the caller's own, or everyone's for payment:configure)",
    tags,
    permission: 'payment:read',
    handler: async ({ operator }) => ({
      object: 'list',
      data: await operators.listTokens(operator),
      has_more: false,
      url: '/admin/tokens',
    }),
  });
  router.operator({
    method: 'POST',
    url: '/admin/tokens/:id/revoke',
    summary: 'Revoke an operator API token',
    tags,
    permission: 'payment:read',
    params: { id: text(64) },
    handler: ({ params, operator, info }) => operators.revokeToken(params.id, operator, originOf(info)),
  });
  router.operator({
    method: 'GET',
    url: '/admin/audit',
    summary: 'Read the audit log, newest first',
    tags: ['Audit'],
    permission: 'audit:read',
    input: {
      limit: boundedInteger(1, 1000).optional(),
      actor: text(100).optional(),
      action: text(100).optional(),
      resource: text(100).optional(),
      since: boundedInteger(0, 32503680000).optional(),
    },
    handler: async ({ input }) => ({
      object: 'list',
      data: await audit.list({
        limit: input.limit ?? 100,
        actorId: input.actor,
        action: input.action,
        resourceId: input.resource,
        since: input.since !== undefined ? new Date(input.since * 1000) : undefined,
      }),
      has_more: false,
      url: '/admin/audit',
    }),
  });
}
