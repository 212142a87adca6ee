// POST /api/payments/test as runbook 002 writes it (operator auth, `provider:operate`, which admins and
// on-call operators hold), and the same under /admin/payments/test for payctl and the dashboard.
import { integer } from '../../http/params.js';
import { originOf, type Router } from '../../http/route.js';
import { currencySchema } from '../routing/routing.js';
import type { ConnectivityTest } from './connectivity-test.js';

export function registerConnectivityTestRoutes(router: Router, test: ConnectivityTest): void {
  for (const url of ['/api/payments/test', '/admin/payments/test']) {
    router.operator({
      method: 'POST',
      url,
      summary:
        'Connectivity test: a small charge (default 50 minor units, test card) and its refund at each card provider',
      tags: ['Provider controls'],
      permission: 'provider:operate',
      input: {
        amount: integer()
          .refine((n) => n >= 50 && n <= 1000, { message: 'must be between 50 and 1000 minor units' })
          .optional(),
        currency: currencySchema.optional(),
      },
      handler: ({ input, operator, info }) =>
        test.run(
          { amount: input.amount ?? 50, currency: (input.currency ?? 'usd').toLowerCase() },
          { type: 'operator', id: operator.operatorId },
          originOf(info),
        ),
    });
  }
}
