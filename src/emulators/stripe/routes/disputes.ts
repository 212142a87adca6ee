// Owns /v1/disputes: retrieve, update with evidence (submitted unless submit=false), close, list.

import { EVIDENCE_FIELDS, FILE_EVIDENCE_FIELDS } from '../../../providers/stripe/dispute-evidence.js';
import { closeDispute, updateDispute } from '../disputes.js';
import type { ApiRoute, RouteInput } from '../http.js';
import { LIST_PARAMS, listPage } from '../listing.js';
import { Params } from '../params.js';
import type { StripeStore } from '../store.js';

export function disputeRoutes(store: StripeStore): ApiRoute[] {
  const load = (input: RouteInput) =>
    store.owned('dispute', input.ctx.account, input.path['dispute']!, 'dispute');
  return [
    {
      method: 'GET',
      url: '/v1/disputes/:dispute',
      handle(input) {
        new Params(input.params, []);
        return { record: load(input) };
      },
    },
    {
      method: 'POST',
      url: '/v1/disputes/:dispute',
      handle(input) {
        const params = new Params(input.params, ['evidence', 'metadata', 'submit']);
        const evidenceParams = params.object('evidence', [...EVIDENCE_FIELDS, 'enhanced_evidence']);
        let evidence: Record<string, string | null> | undefined;
        if (evidenceParams) {
          evidence = {};
          for (const field of EVIDENCE_FIELDS) {
            const value = evidenceParams.clearable(field, 150_000);
            if (value !== undefined) evidence[field] = value;
            // A file field names an upload of this account (POST /v1/files), as at Stripe.
            if (value && FILE_EVIDENCE_FIELDS.has(field)) {
              store.owned('file', input.ctx.account, value, `evidence[${field}]`);
            }
          }
        }
        const dispute = load(input);
        return {
          record: updateDispute(store, input.ctx, dispute, {
            evidence,
            metadata: params.metadata(),
            submit: params.boolean('submit'),
          }),
        };
      },
    },
    {
      method: 'POST',
      url: '/v1/disputes/:dispute/close',
      handle(input) {
        new Params(input.params, []);
        return { record: closeDispute(store, input.ctx, load(input)) };
      },
    },
    {
      method: 'GET',
      url: '/v1/disputes',
      handle(input) {
        const params = new Params(input.params, [...LIST_PARAMS, 'charge', 'payment_intent']);
        const chargeId = params.string('charge');
        const intentId = params.string('payment_intent');
        return {
          list: listPage(store, 'dispute', input.ctx.account, params, '/v1/disputes', {
            filter:
              chargeId || intentId
                ? (dispute) =>
                    (!chargeId || dispute.charge === chargeId) &&
                    (!intentId || dispute.payment_intent === intentId)
                : undefined,
          }),
        };
      },
    },
  ];
}
