// Operator API for blocked client addresses (runbook 003's emergency IP block): list the blocks in force,
// block an address (for a duration or until unblocked), unblock it. Changes need `payment:configure`
// (admins), the list `audit:read`; each change is an audit row and a metric.
import { z } from 'zod';
import { text } from '../../http/params.js';
import type { OperatorContext, Router } from '../../http/route.js';
import { originOf } from '../../http/route.js';
import { durationSecondsSchema, ipSchema } from './ip-blocks.js';
import type { IpBlocksService } from './ip-blocks.service.js';

const tags = ['Security'];

const actorOf = (ctx: Pick<OperatorContext<unknown, unknown>, 'operator'>) => ({
  type: 'operator' as const,
  id: ctx.operator.operatorId,
});

export function registerIpBlockRoutes(router: Router, ipBlocks: IpBlocksService): void {
  router.operator({
    method: 'GET',
    url: '/admin/ip_blocks',
    summary: 'Client addresses blocked now (brute force or manual)',
    tags,
    permission: 'audit:read',
    handler: async () => ({
      object: 'list',
      data: await ipBlocks.list(),
      has_more: false,
      url: '/admin/ip_blocks',
    }),
  });
  router.operator({
    method: 'POST',
    url: '/admin/ip_blocks',
    summary: 'Block a client address: every request from it is refused with 403 until the block ends',
    tags,
    permission: 'payment:configure',
    input: {
      ip: ipSchema,
      duration_seconds: durationSecondsSchema.optional(),
      note: text(500).optional(),
    },
    handler: (ctx) =>
      ipBlocks.block(
        ctx.input.ip,
        { durationSeconds: ctx.input.duration_seconds, note: ctx.input.note },
        actorOf(ctx),
        originOf(ctx.info),
      ),
  });
  router.operator({
    method: 'DELETE',
    url: '/admin/ip_blocks/:ip',
    summary: 'Unblock a client address',
    tags,
    permission: 'payment:configure',
    params: { ip: z.string().pipe(ipSchema) },
    handler: (ctx) => ipBlocks.unblock(ctx.params.ip, actorOf(ctx), originOf(ctx.info)),
  });
}
