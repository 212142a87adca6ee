// Operator API for fraud rules and blocklists (runbook 003's "update fraud rules"): reading needs
// `payment:read`, changing needs `payment:configure`, as for routing rules; every change is audited.
import { text } from '../../http/params.js';
import { originOf, type Router } from '../../http/route.js';
import { blocklistFields, blocklistFilters, ruleUpdateFields } from './fraud.js';
import type { FraudService } from './fraud.service.js';

export function registerFraudRoutes(router: Router, fraud: FraudService): void {
  const tags = ['Fraud'];
  const byId = { id: text(64) };
  router.operator({
    method: 'GET',
    url: '/admin/fraud/rules',
    summary: 'List the fraud rules: enabled, action (block, review, request_three_d_secure), thresholds',
    tags,
    permission: 'payment:read',
    handler: async () => ({
      object: 'list',
      data: await fraud.listRules(),
      has_more: false,
      url: '/admin/fraud/rules',
    }),
  });
  router.operator({
    method: 'GET',
    url: '/admin/fraud/rules/:id',
    summary: 'Retrieve a fraud rule',
    tags,
    permission: 'payment:read',
    params: byId,
    handler: ({ params }) => fraud.retrieveRule(params.id),
  });
  router.operator({
    method: 'POST',
    url: '/admin/fraud/rules/:id',
    summary: 'Change a fraud rule: enabled, action, thresholds (merged key by key); audited',
    tags,
    permission: 'payment:configure',
    params: byId,
    input: ruleUpdateFields,
    handler: ({ params, input, operator, info }) =>
      fraud.updateRule(params.id, input, { type: 'operator', id: operator.operatorId }, originOf(info)),
  });
  router.operator({
    method: 'GET',
    url: '/admin/fraud/blocklist',
    summary: 'List blocklist entries (card fingerprints, emails, shopper IPs), newest first',
    tags,
    permission: 'payment:read',
    input: blocklistFilters,
    handler: ({ input }) => fraud.listBlocklist(input.kind),
  });
  router.operator({
    method: 'POST',
    url: '/admin/fraud/blocklist',
    summary: 'Add a card fingerprint, email or shopper IP to the blocklist; audited',
    tags,
    permission: 'payment:configure',
    input: blocklistFields,
    handler: ({ input, operator, info }) =>
      fraud.addToBlocklist(input, { type: 'operator', id: operator.operatorId }, originOf(info)),
  });
  router.operator({
    method: 'DELETE',
    url: '/admin/fraud/blocklist/:id',
    summary: 'Remove a blocklist entry; audited',
    tags,
    permission: 'payment:configure',
    params: byId,
    handler: ({ params, operator, info }) =>
      fraud.removeFromBlocklist(params.id, { type: 'operator', id: operator.operatorId }, originOf(info)),
  });
}
