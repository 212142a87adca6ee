// The admin API of the account controls: TOTP enrolment for the caller, unlock and second-factor reset
// for administrators, and runbook 003's access review.
import { z } from 'zod';
import { text } from '../../http/params.js';
import { originOf, type Router } from '../../http/route.js';
import type { OperatorSecurity } from './operator-security.js';
import { SELF_PERMISSION } from './operators.service.js';

export function registerOperatorSecurityRoutes(router: Router, security: OperatorSecurity): void {
  const tags = ['Operators'];
  router.operator({
    method: 'POST',
    url: '/admin/mfa/totp',
    summary: 'Start TOTP enrolment: returns the otpauth:// URI once; confirm with the first code',
    tags,
    permission: SELF_PERMISSION,
    handler: ({ operator, info }) => security.startEnrolment(operator, originOf(info)),
  });
  router.operator({
    method: 'POST',
    url: '/admin/mfa/totp/confirm',
    summary: "Confirm TOTP enrolment with the authenticator's first code",
    tags,
    permission: SELF_PERMISSION,
    input: { code: z.string().max(16) },
    handler: ({ operator, input, info }) => security.confirmEnrolment(operator, input.code, originOf(info)),
  });
  router.operator({
    method: 'POST',
    url: '/admin/operators/:id/unlock',
    summary: 'End the lockout of an operator account before its 30 minutes are up',
    tags,
    permission: 'payment:configure',
    params: { id: text(64) },
    handler: ({ params, operator, info }) =>
      security.unlock(params.id, { type: 'operator', id: operator.operatorId }, originOf(info)),
  });
  router.operator({
    method: 'POST',
    url: '/admin/operators/:id/mfa/reset',
    summary: "Remove an operator's TOTP authenticator (lost device); they enrol again at next login",
    tags,
    permission: 'payment:configure',
    params: { id: text(64) },
    handler: ({ params, operator, info }) => security.resetTotp(params.id, operator, originOf(info)),
  });
  router.operator({
    method: 'GET',
    url: '/admin/access_review',
    summary: 'Access review: every operator, role, MFA, last use, disabled; flags what needs action',
    tags,
    permission: 'payment:configure',
    handler: async () => ({
      object: 'list',
      data: await security.accessReview(),
      has_more: false,
      url: '/admin/access_review',
    }),
  });
}
