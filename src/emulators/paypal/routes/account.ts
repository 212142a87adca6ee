// Owns the account-level APIs: disputes (list, retrieve, provide-evidence, accept-claim), transaction
// search, the partner merchant-integration read the connector's card (ACDC) eligibility check uses,
// and PayPal's remote webhook signature check.
import type { Ctx } from '../context.js';
import { acceptClaim, provideEvidence } from '../disputes.js';
import { invalidRequest } from '../errors.js';
import type { PayPalRoute, RouteInput } from '../http.js';
import { renderDispute } from '../render.js';
import { searchTransactions } from '../reporting.js';
import { verifyPayPalSignature } from '../webhooks.js';

export interface AccountRouteOptions {
  reportingDelaySeconds: number;
  certificatePem: string;
  certName: string;
}

const MAX_DISPUTE_PAGE = 50;

export function accountRoutes(context: (now: Date) => Ctx, options: AccountRouteOptions): PayPalRoute[] {
  const dispute = (input: RouteInput, ctx: Ctx) =>
    ctx.store.owned('dispute', input.caller.account, input.params['id']!);
  const linksOnly = (ctx: Ctx, id: string) => ({
    links: [{ href: `${ctx.render.apiUrl}/v1/customer/disputes/${id}`, rel: 'self', method: 'GET' }],
  });
  return [
    {
      method: 'GET',
      url: '/v1/customer/disputes',
      handle(input) {
        const ctx = context(input.now);
        const size = input.query['page_size'] === undefined ? 10 : Number(input.query['page_size']);
        if (!Number.isInteger(size) || size < 1 || size > MAX_DISPUTE_PAGE) {
          throw invalidRequest(
            'INVALID_PARAMETER_VALUE',
            `page_size must be from 1 to ${MAX_DISPUTE_PAGE}`,
            'page_size',
            'query',
          );
        }
        const offset =
          Number(Buffer.from(String(input.query['next_page_token'] ?? ''), 'base64url').toString() || '0') ||
          0;
        const transaction = input.query['disputed_transaction_id'];
        const all = [...ctx.store.all('dispute')]
          .filter((d) => d.account === input.caller.account && (!transaction || d.capture_id === transaction))
          .reverse();
        const items = all.slice(offset, offset + size).map((d) => {
          const { evidences: _evidences, ...summary } = renderDispute(ctx.render, d) as Record<
            string,
            unknown
          >;
          return summary;
        });
        const next =
          offset + size < all.length ? Buffer.from(String(offset + size)).toString('base64url') : null;
        const base = `${ctx.render.apiUrl}/v1/customer/disputes?page_size=${size}`;
        return {
          status: 200,
          body: {
            items,
            links: [
              { href: base, rel: 'self', method: 'GET' },
              ...(next ? [{ href: `${base}&next_page_token=${next}`, rel: 'next', method: 'GET' }] : []),
            ],
          },
        };
      },
    },
    {
      method: 'GET',
      url: '/v1/customer/disputes/:id',
      handle(input) {
        const ctx = context(input.now);
        return { status: 200, body: renderDispute(ctx.render, dispute(input, ctx)) };
      },
    },
    {
      method: 'POST',
      url: '/v1/customer/disputes/:id/provide-evidence',
      handle(input) {
        const ctx = context(input.now);
        const updated = provideEvidence(ctx, dispute(input, ctx), input.body);
        return { status: 200, body: linksOnly(ctx, updated.id) };
      },
    },
    {
      method: 'POST',
      url: '/v1/customer/disputes/:id/accept-claim',
      handle(input) {
        const ctx = context(input.now);
        const updated = acceptClaim(ctx, dispute(input, ctx));
        return { status: 200, body: linksOnly(ctx, updated.id) };
      },
    },
    {
      method: 'GET',
      url: '/v1/reporting/transactions',
      handle(input) {
        const ctx = context(input.now);
        const body = searchTransactions(
          ctx.store,
          input.caller.account,
          input.query,
          input.now,
          options.reportingDelaySeconds,
          ctx.render.apiUrl,
        );
        return { status: 200, body };
      },
    },
    {
      method: 'GET',
      url: '/v1/customer/partners/:partner_id/merchant-integrations/:merchant_id',
      handle(input) {
        const active = input.caller.acdc;
        return {
          status: 200,
          body: {
            merchant_id: input.params['merchant_id'],
            tracking_id: input.params['merchant_id'],
            payments_receivable: true,
            primary_email_confirmed: true,
            products: [
              {
                name: 'PPCP_CUSTOM',
                vetting_status: active ? 'SUBSCRIBED' : 'DENIED',
                capabilities: active ? ['CUSTOM_CARD_PROCESSING'] : [],
              },
            ],
            capabilities: [{ name: 'CUSTOM_CARD_PROCESSING', status: active ? 'ACTIVE' : 'SUSPENDED' }],
          },
        };
      },
    },
    {
      method: 'POST',
      url: '/v1/notifications/verify-webhook-signature',
      handle(input) {
        const body = input.body;
        const text = (key: string) => (typeof body[key] === 'string' ? (body[key] as string) : '');
        const ok =
          text('auth_algo') === 'SHA256withRSA' &&
          text('cert_url').endsWith(`/v1/notifications/certs/${options.certName}`) &&
          body['webhook_event'] !== undefined &&
          verifyPayPalSignature(
            options.certificatePem,
            {
              transmissionId: text('transmission_id'),
              transmissionTime: text('transmission_time'),
              transmissionSig: text('transmission_sig'),
            },
            text('webhook_id'),
            JSON.stringify(body['webhook_event']),
          );
        return { status: 200, body: { verification_status: ok ? 'SUCCESS' : 'FAILURE' } };
      },
    },
  ];
}
