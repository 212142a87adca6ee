// Operator API for data lifecycle (runbook 003): the partitions of the high-volume tables
// (`payment:read`) and the purge of webhook logs (`payment:configure`, audited).
import { z } from 'zod';
import { originOf, type Router } from '../../http/route.js';
import { olderThanSchema } from './partitions.js';
import type { PartitionsService } from './partitions.service.js';

export function registerPartitionRoutes(router: Router, partitions: PartitionsService): void {
  const tags = ['Maintenance'];
  router.operator({
    method: 'GET',
    url: '/admin/maintenance/partitions',
    summary: 'Monthly partitions of events, webhook deliveries and attempts, and the inbound inbox',
    tags,
    permission: 'payment:read',
    handler: () => partitions.list(),
  });
  router.operator({
    method: 'POST',
    url: '/admin/maintenance/purge-webhook-logs',
    summary:
      'Runbook 003: drop the webhook log months (deliveries, attempts, inbound events) older than `older_than` days (30d)',
    tags,
    permission: 'payment:configure',
    input: { older_than: olderThanSchema.pipe(z.number()) },
    handler: ({ input, operator, info }) =>
      partitions.purgeWebhookLogs(
        input.older_than,
        { type: 'operator', id: operator.operatorId },
        originOf(info),
      ),
  });
}
