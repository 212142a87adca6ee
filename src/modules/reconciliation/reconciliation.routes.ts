// HTTP surface of reconciliation, for operators: start a run and read runs with their findings
// (`payment:read` to read, `payment:configure` to run), and decide a finding (`payment:refund`).
import { invalidParam } from '../../http/errors.js';
import { integer, text } from '../../http/params.js';
import { originOf, type Router } from '../../http/route.js';
import { adoptInput, runInput } from './reconciliation.js';
import type { ReconciliationService } from './reconciliation.service.js';

const limit = (max: number) =>
  integer()
    .refine((n) => n >= 1 && n <= max, { message: `must be between 1 and ${max}` })
    .optional();
const byId = { id: text(255) };

export function registerReconciliationRoutes(router: Router, reconciliation: ReconciliationService): void {
  const tags = ['Reconciliation'];
  router.operator({
    method: 'POST',
    url: '/admin/reconciliation/runs',
    summary:
      'Start reconciling the providers’ records of the last `since` (3600, 24h, 7d or a date) with ours and answer the running run; `kind=pending` runs the scheduled pass now and answers it finished',
    tags,
    permission: 'payment:configure',
    input: runInput,
    handler: async ({ input, operator, info }) => {
      const by = {
        actor: { type: 'operator' as const, id: operator.operatorId },
        trigger: 'operator' as const,
        origin: originOf(info),
      };
      if (input.kind === 'pending') {
        if (input.since !== undefined || input.provider !== undefined) {
          throw invalidParam(
            input.since !== undefined ? 'since' : 'provider',
            'The pending pass takes every payment pending for more than 10 minutes: no since or provider.',
          );
        }
        return reconciliation.runPending(by);
      }
      return (await reconciliation.start(input, by)).run;
    },
  });
  router.operator({
    method: 'GET',
    url: '/admin/reconciliation/runs',
    summary: 'Reconciliation runs, newest first',
    tags,
    permission: 'payment:read',
    input: { limit: limit(100), starting_after: text(255).optional() },
    handler: ({ input }) => reconciliation.listRuns(input.limit, input.starting_after),
  });
  router.operator({
    method: 'GET',
    url: '/admin/reconciliation/runs/:id',
    summary: 'One run (`latest` for the newest) with a page of its findings',
    tags,
    permission: 'payment:read',
    params: byId,
    input: { limit: limit(1000), starting_after: text(255).optional() },
    handler: ({ params, input }) =>
      reconciliation.report(
        params.id === 'latest' ? undefined : params.id,
        input.limit,
        input.starting_after,
      ),
  });
  router.operator({
    method: 'POST',
    url: '/admin/reconciliation/findings/:id/refund',
    summary: 'Refund at the provider the charge of an unknown or duplicate finding (audited)',
    tags,
    permission: 'payment:refund',
    params: byId,
    input: {},
    handler: ({ params, operator, info }) =>
      reconciliation.refund(params.id, { type: 'operator', id: operator.operatorId }, originOf(info)),
  });
  router.operator({
    method: 'POST',
    url: '/admin/reconciliation/findings/:id/adopt',
    summary: 'Record an unknown provider charge as a payment of `merchant` (audited)',
    tags,
    permission: 'payment:configure',
    params: byId,
    input: adoptInput,
    handler: ({ params, input, operator, info }) =>
      reconciliation.adopt(
        params.id,
        input.merchant,
        { type: 'operator', id: operator.operatorId },
        originOf(info),
      ),
  });
}
