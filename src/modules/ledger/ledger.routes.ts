// HTTP surface of the ledger: the merchant's balance and balance transactions (Stripe's shapes), and
// the operator's ledger verification (what `payctl ledger verify --url` calls).
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { listParams } from '../../http/pagination.js';
import { text } from '../../http/params.js';
import type { Router } from '../../http/route.js';
import type { AuditService } from '../audit/audit.service.js';
import { balanceTransactionFilters } from './balance.js';
import type { BalanceService } from './balance.service.js';
import { verifyLedger } from './ledger.verify.js';

export interface LedgerRouteDeps {
  balance: BalanceService;
  audit: AuditService;
  db: Kysely<Database>;
}

export function registerLedgerRoutes(router: Router, { balance, audit, db }: LedgerRouteDeps): void {
  const tags = ['Balance'];
  router.merchant({
    method: 'GET',
    url: '/v1/balance',
    summary: 'Retrieve the available and pending balance per currency',
    tags,
    auth: 'secret',
    scope: 'balance:read',
    handler: ({ merchant }) => balance.retrieve(merchant),
  });
  router.merchant({
    method: 'GET',
    url: '/v1/balance_transactions',
    summary: 'List balance transactions, newest first',
    tags,
    auth: 'secret',
    scope: 'balance:read',
    input: { ...listParams, ...balanceTransactionFilters },
    handler: ({ merchant, input }) => balance.listTransactions(merchant, input),
  });
  router.merchant({
    method: 'GET',
    url: '/v1/balance_transactions/:id',
    summary: 'Retrieve a balance transaction',
    tags,
    auth: 'secret',
    scope: 'balance:read',
    params: { id: text(255) },
    handler: ({ merchant, params }) => balance.retrieveTransaction(merchant, params.id),
  });
  router.operator({
    method: 'GET',
    url: '/admin/ledger/verify',
    summary: 'Recompute every balance from the entries and check every ledger invariant',
    tags: ['Ledger'],
    permission: 'payment:read',
    handler: async ({ operator, info }) => {
      const report = await verifyLedger(db);
      await audit.record({
        actor: { type: 'operator', id: operator.operatorId },
        action: 'ledger.verify',
        outcome: report.ok ? 'success' : 'failure',
        origin: info,
        newValue: {
          ok: report.ok,
          violations: report.checks.filter((c) => c.violations > 0).map((c) => c.name),
        },
      });
      return { object: 'ledger_verification', ...report };
    },
  });
}
