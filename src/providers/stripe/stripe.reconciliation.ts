// Owns reading Stripe's charges for reconciliation: `GET /v1/charges` over a `created` window, 100 per
// page, following `starting_after` (Stripe's cursor), each page mapped to ProviderRecords and handed on
// before the next is asked for, so memory holds one page whatever the window's size.
import type Stripe from 'stripe';
import type { ProviderRecord } from '../provider.js';
import { METADATA_MERCHANT, METADATA_PAYMENT_INTENT } from './stripe.transformers.js';

const PAGE_SIZE = 100;

export function toProviderRecord(charge: Stripe.Charge): ProviderRecord | undefined {
  const intent =
    typeof charge.payment_intent === 'string' ? charge.payment_intent : charge.payment_intent?.id;
  // A charge made without a PaymentIntent (the legacy Charges API) is not one of ours to match.
  if (!intent) return undefined;
  return {
    providerPaymentId: intent,
    providerChargeId: charge.id,
    status:
      charge.status === 'succeeded'
        ? charge.captured
          ? 'succeeded'
          : 'authorized'
        : charge.status === 'failed'
          ? 'failed'
          : 'pending',
    amount: charge.captured ? charge.amount_captured : charge.amount,
    amountRefunded: charge.amount_refunded,
    disputed: charge.disputed,
    currency: charge.currency,
    createdAt: new Date(charge.created * 1000),
    claimedPaymentIntentId: charge.metadata?.[METADATA_PAYMENT_INTENT] ?? null,
    claimedMerchantId: charge.metadata?.[METADATA_MERCHANT] ?? null,
  };
}

/** Charges created in [from, to), page by page, newest first (Stripe's list order). */
export async function* stripeChargeRecords(
  stripe: Stripe,
  from: Date,
  to: Date,
  call: <T>(operation: string, run: () => Promise<T>) => Promise<T>,
): AsyncIterable<ProviderRecord[]> {
  let startingAfter: string | undefined;
  for (;;) {
    const page = await call('list charges', () =>
      stripe.charges.list({
        limit: PAGE_SIZE,
        created: { gte: Math.floor(from.getTime() / 1000), lt: Math.ceil(to.getTime() / 1000) },
        ...(startingAfter ? { starting_after: startingAfter } : {}),
      }),
    );
    const records = page.data.map(toProviderRecord).filter((r): r is ProviderRecord => r !== undefined);
    if (records.length > 0) yield records;
    const last = page.data.at(-1);
    if (!page.has_more || !last) return;
    startingAfter = last.id;
  }
}
