// Runbook 002's flag API as written (DESIGN section 10), with operator auth: PATCH /v1/flags/:flag
// sets rollouts per environment, POST /api/flags/:flag/kill is the kill switch, GET
// /api/flags/:flag/status reads it; POST /api/flags/:flag/enable lifts the kill. The same operations
// under /admin/flags serve payctl and the dashboard. Changes need `provider:operate` (the permission of
// the provider switches: admins and on-call operators), reads `payment:read`; every change is audited.

import type { OperatorContext, Router } from '../../http/route.js';
import { originOf } from '../../http/route.js';
import type { Environment } from './flags.js';
import { flagNameSchema, patchFields, switchFields } from './flags.js';
import type { FlagsService } from './flags.service.js';

const tags = ['Flags'];
const byFlag = { flag: flagNameSchema };

const actorOf = (ctx: Pick<OperatorContext<unknown, unknown>, 'operator'>) => ({
  type: 'operator' as const,
  id: ctx.operator.operatorId,
});

export function registerFlagRoutes(router: Router, flags: FlagsService): void {
  router.operator({
    method: 'GET',
    url: '/admin/flags',
    summary: 'Every feature flag: kill state and rollout per environment',
    tags,
    permission: 'payment:read',
    handler: async () => ({ object: 'list', data: await flags.list(), has_more: false, url: '/admin/flags' }),
  });
  for (const url of ['/api/flags/:flag/status', '/admin/flags/:flag']) {
    router.operator({
      method: 'GET',
      url,
      summary: 'A feature flag: enabled or killed, rollout per environment, last change',
      tags,
      permission: 'payment:read',
      params: byFlag,
      handler: ({ params }) => flags.status(params.flag),
    });
  }
  for (const url of ['/v1/flags/:flag', '/admin/flags/:flag']) {
    router.operator({
      method: 'PATCH',
      url,
      summary: 'Set rollout percentages: {"environments":{"<env>":{"rollout":{"value":0-100}}}}',
      tags,
      permission: 'provider:operate',
      params: byFlag,
      input: patchFields,
      handler: (ctx) =>
        flags.setRollouts(
          ctx.params.flag,
          Object.fromEntries(
            Object.entries(ctx.input.environments).map(([env, change]) => [env, change?.rollout.value]),
          ) as Partial<Record<Environment, number>>,
          actorOf(ctx),
          originOf(ctx.info),
        ),
    });
  }
  for (const prefix of ['/api/flags', '/admin/flags']) {
    router.operator({
      method: 'POST',
      url: `${prefix}/:flag/kill`,
      summary: 'Kill switch: refuse every new payment confirmation on every replica within seconds',
      tags,
      permission: 'provider:operate',
      params: byFlag,
      input: switchFields,
      handler: (ctx) => flags.kill(ctx.params.flag, actorOf(ctx), originOf(ctx.info), ctx.input.reason),
    });
    router.operator({
      method: 'POST',
      url: `${prefix}/:flag/enable`,
      summary: 'Lift the kill switch: the rollouts apply again',
      tags,
      permission: 'provider:operate',
      params: byFlag,
      input: switchFields,
      handler: (ctx) => flags.enable(ctx.params.flag, actorOf(ctx), originOf(ctx.info), ctx.input.reason),
    });
  }
}
