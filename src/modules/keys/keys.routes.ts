// Operator API for merchant keys: create (secret shown once), list, rotate with an overlap, revoke.
// Each change is audited with the key's id and redacted form, never the secret.
import { z } from 'zod';
import type { Clock } from '../../clock.js';
import { boolean, boundedInteger, text } from '../../http/params.js';
import { originOf, type Router } from '../../http/route.js';
import type { AuditService } from '../audit/audit.service.js';
import type { MerchantsService } from '../merchants/merchants.service.js';
import { scopeSchema } from './keys.js';
import { rotateAgedKeys } from './keys.rotation.js';
import type { KeysService } from './keys.service.js';

export const DEFAULT_ROTATION_OVERLAP_SECONDS = 24 * 3600;

interface Deps {
  keys: KeysService;
  merchants: MerchantsService;
  audit: AuditService;
  clock: Clock;
}

export function registerKeyRoutes(router: Router, { keys, merchants, audit, clock }: Deps): void {
  const tags = ['API keys'];
  const byId = { id: text(64) };
  router.operator({
    method: 'POST',
    url: '/admin/keys',
    summary: 'Create an API key for a merchant (the secret is returned once)',
    tags,
    permission: 'payment:configure',
    input: {
      merchant: text(64).min(1),
      kind: z.enum(['secret', 'restricted', 'publishable']).optional(),
      livemode: boolean().optional(),
      name: text(100).optional(),
      scopes: z.array(scopeSchema).max(50).optional(),
      expires_in_days: boundedInteger(1, 3650).optional(),
    },
    handler: async ({ input, operator, info }) => {
      await merchants.retrieve(input.merchant, 'merchant');
      const created = await keys.create(input.merchant, {
        kind: input.kind ?? 'secret',
        livemode: input.livemode ?? false,
        name: input.name,
        scopes: input.scopes,
        expiresAt:
          input.expires_in_days !== undefined
            ? new Date(clock.now().getTime() + input.expires_in_days * 86_400_000)
            : undefined,
      });
      await audit.record({
        actor: { type: 'operator', id: operator.operatorId },
        action: 'api_key.create',
        resourceType: 'api_key',
        resourceId: created.key.id,
        outcome: 'success',
        origin: originOf(info),
        newValue: created.key,
      });
      return { ...created.key, secret: created.secret };
    },
  });
  router.operator({
    method: 'GET',
    url: '/admin/keys',
    summary: 'List API keys (redacted), optionally for one merchant',
    tags,
    permission: 'payment:configure',
    input: { merchant: text(64).optional() },
    handler: async ({ input }) => ({
      object: 'list',
      data: await keys.list(input.merchant),
      has_more: false,
      url: '/admin/keys',
    }),
  });
  router.operator({
    method: 'POST',
    url: '/admin/keys/:id/revoke',
    summary: 'Revoke an API key at once',
    tags,
    permission: 'payment:configure',
    params: byId,
    handler: async ({ params, operator, info }) => {
      const { before, after } = await keys.revoke(params.id);
      await audit.record({
        actor: { type: 'operator', id: operator.operatorId },
        action: 'api_key.revoke',
        resourceType: 'api_key',
        resourceId: params.id,
        outcome: 'success',
        origin: originOf(info),
        oldValue: before,
        newValue: after,
      });
      return after;
    },
  });
  router.operator({
    method: 'POST',
    url: '/admin/keys/:id/rotate',
    summary: 'Issue a replacement key; the old one keeps working for the overlap (default 24 h)',
    tags,
    permission: 'payment:configure',
    params: byId,
    input: { overlap_seconds: boundedInteger(0, 30 * 86_400).optional() },
    handler: async ({ params, input, operator, info }) => {
      const rotated = await keys.rotate(params.id, input.overlap_seconds ?? DEFAULT_ROTATION_OVERLAP_SECONDS);
      await audit.record({
        actor: { type: 'operator', id: operator.operatorId },
        action: 'api_key.rotate',
        resourceType: 'api_key',
        resourceId: params.id,
        outcome: 'success',
        origin: originOf(info),
        newValue: { replacement: rotated.key.id, old_key_expires_at: rotated.previous.expires_at },
      });
      return { ...rotated.key, secret: rotated.secret, previous: rotated.previous };
    },
  });
  router.operator({
    method: 'POST',
    url: '/admin/keys/rotate_aged',
    summary: 'Rotate every secret and restricted key older than older_than_days (runbook 003: 90 days)',
    tags,
    permission: 'payment:configure',
    input: {
      older_than_days: boundedInteger(1, 3650),
      overlap_seconds: boundedInteger(0, 30 * 86_400).optional(),
      dry_run: boolean().optional(),
    },
    handler: async ({ input, operator, info }) => ({
      object: 'list',
      dry_run: input.dry_run ?? false,
      data: await rotateAgedKeys(
        { keys, audit },
        {
          olderThanDays: input.older_than_days,
          overlapSeconds: input.overlap_seconds ?? DEFAULT_ROTATION_OVERLAP_SECONDS,
          dryRun: input.dry_run ?? false,
        },
        { type: 'operator', id: operator.operatorId },
        originOf(info),
      ),
    }),
  });
}
