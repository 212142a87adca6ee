// Operator API for a key's own rate limit: read it, set it, or clear it back to
// RATE_LIMIT_PER_KEY_PER_SECOND. Changes need `payment:configure` and are audited; every replica
// applies them within seconds.
import { z } from 'zod';
import type { Router } from '../../http/route.js';
import { originOf } from '../../http/route.js';
import type { RateLimitsService } from './rate-limits.service.js';

const tags = ['API keys'];
const byKey = { id: z.string().min(1).max(255) };

/** A whole number of requests per second, or '' / null to return the key to the default. */
const perSecond = z.union([
  z.literal('').transform(() => null),
  z.null(),
  z.coerce.number().int().min(1).max(1_000_000),
]);

export function registerRateLimitRoutes(router: Router, limits: RateLimitsService): void {
  router.operator({
    method: 'GET',
    url: '/admin/keys/:id/rate_limit',
    summary: "A key's requests-per-second limit (its own, or the default)",
    tags,
    permission: 'payment:read',
    params: byKey,
    handler: ({ params }) => limits.keyLimit(params.id),
  });
  router.operator({
    method: 'POST',
    url: '/admin/keys/:id/rate_limit',
    summary: 'Set a key\'s requests-per-second limit; per_second="" returns it to the default',
    tags,
    permission: 'payment:configure',
    params: byKey,
    input: { per_second: perSecond },
    handler: (ctx) =>
      limits.setKeyLimit(
        ctx.params.id,
        ctx.input.per_second,
        { type: 'operator', id: ctx.operator.operatorId },
        originOf(ctx.info),
      ),
  });
}
