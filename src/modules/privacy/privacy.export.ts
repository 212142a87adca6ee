// The data export's answer: the customer and each kind of record about them as a Stripe-shaped list,
// newest first and capped at `limit` (read limit + 1, so `has_more` is exact), with `truncated` naming
// the lists that were cut. Card payment methods show brand, last 4 and expiry, never the number.
import { unixSeconds } from '../../clock.js';
import type { Scope } from '../../http/expand.js';
import { listObject } from '../../http/pagination.js';
import { toCustomerObject } from '../customers/customers.js';
import type { CustomerRow } from '../customers/customers.table.js';
import { renderDispute } from '../disputes/dispute-object.js';
import { toPaymentMethodObject } from '../payment-methods/payment-methods.js';
import { toChargeObject } from '../payments/charges.js';
import { toPaymentIntentObject } from '../payments/payment-intents.js';
import { refundsOfCharges } from '../payments/payments.repository.js';
import { toRefundObject } from '../refunds/refund-object.js';
import { toDeliveryObject } from '../webhooks-out/webhooks-admin.js';
import {
  chargesQuery,
  deliveriesQuery,
  disputesQuery,
  eventsQuery,
  intentsQuery,
  newestFirst,
  paymentMethodsQuery,
  refundsQuery,
  walletsQuery,
} from './privacy.repository.js';
import type { PrivacyDeps } from './privacy.service.js';

/** Wallet entries come from the wallets module's own list, which pages at most 100 at a time. */
const MAX_WALLET_ENTRIES = 100;

export async function buildExport(deps: PrivacyDeps, customer: CustomerRow, limit: number) {
  const { db } = deps;
  const scope: Scope = { merchantId: customer.merchant_id, livemode: customer.livemode };
  const id = customer.id;
  const take = limit + 1;
  const [methods, intents, charges, refunds, disputes, wallets, events, deliveries] = await Promise.all([
    newestFirst(paymentMethodsQuery(db, scope, id), 'payment_methods', take).execute(),
    newestFirst(intentsQuery(db, scope, id), 'payment_intents', take).execute(),
    newestFirst(chargesQuery(db, scope, id), 'charges', take).execute(),
    newestFirst(refundsQuery(db, scope, id), 'refunds', take).execute(),
    newestFirst(disputesQuery(db, scope, id), 'disputes', take).execute(),
    newestFirst(walletsQuery(db, scope, id), 'wallets', take).execute(),
    newestFirst(eventsQuery(db, scope, id), 'events', take).execute(),
    newestFirst(deliveriesQuery(db, scope, id), 'webhook_deliveries', take).execute(),
  ]);
  const capped = <T>(rows: T[], url: string) => listObject(url, rows.slice(0, limit), rows.length > limit);
  const now = deps.clock.now();
  const shownCharges = charges.slice(0, limit);
  const refundsByCharge = await refundsOfCharges(
    db,
    shownCharges.map((charge) => charge.id),
  );
  const lists = {
    payment_methods: capped(methods.map(toPaymentMethodObject), '/v1/payment_methods'),
    payment_intents: capped(intents.map(toPaymentIntentObject), '/v1/payment_intents'),
    charges: capped(
      charges.map((row) => toChargeObject(row, refundsByCharge.get(row.id) ?? [])),
      '/v1/charges',
    ),
    refunds: capped(refunds.map(toRefundObject), '/v1/refunds'),
    disputes: listObject(
      '/v1/disputes',
      await Promise.all(disputes.slice(0, limit).map((row) => renderDispute(db, row, row.card_brand, now))),
      disputes.length > limit,
    ),
    wallets: listObject(
      '/v1/wallets',
      await Promise.all(
        wallets.slice(0, limit).map(async (row) => ({
          ...(await deps.wallets.object(db, row)),
          entries: await deps.wallets.entries(scope, row.id, { limit: Math.min(limit, MAX_WALLET_ENTRIES) }),
        })),
      ),
      wallets.length > limit,
    ),
    events: capped(
      events.map((row) => ({
        id: row.id,
        object: 'event' as const,
        type: row.type,
        created: unixSeconds(row.created_at),
        subject: row.object_id,
      })),
      '/v1/events',
    ),
    webhook_deliveries: capped(
      deliveries.map((row) => toDeliveryObject(row)),
      '/admin/webhook_deliveries',
    ),
  };
  const entries = Object.entries(lists);
  return {
    object: 'privacy_export' as const,
    customer_id: id,
    merchant: customer.merchant_id,
    livemode: customer.livemode,
    generated_at: unixSeconds(now),
    erased_at: customer.erased_at ? unixSeconds(customer.erased_at) : null,
    limit,
    customer: { ...toCustomerObject(customer), deleted: customer.deleted_at !== null },
    ...lists,
    counts: Object.fromEntries(entries.map(([kind, list]) => [kind, list.data.length])),
    truncated: entries.filter(([, list]) => list.has_more).map(([kind]) => kind),
  };
}
