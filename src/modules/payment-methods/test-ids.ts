// Stripe's shared test ids (pm_card_visa, ...) read as payment methods in test mode. They are not
// stored: each read builds the row, with this merchant's fingerprint of the test card.
import type { Scope } from '../../http/expand.js';
import { Secret } from '../vault/secret.js';
import { checkNumber } from './cards.js';
import type { CardDeps } from './new-card.js';
import { mergeBillingDetails } from './payment-methods.js';
import type { PaymentMethodRow } from './payment-methods.table.js';
import { cardCountry, cardFunding, TEST_PAYMENT_METHODS } from './sandbox-cards.js';

/** A test id as a payment method row (test mode only); not stored. */
export function testPaymentMethodRow(
  { clock, vault }: CardDeps,
  scope: Scope,
  id: string,
): PaymentMethodRow | undefined {
  const number = scope.livemode ? undefined : TEST_PAYMENT_METHODS[id];
  if (!number) return undefined;
  const checked = checkNumber(number);
  const fingerprint = vault.fingerprint(scope.merchantId, new Secret(number));
  const now = clock.now();
  const details = mergeBillingDetails(undefined, undefined);
  return {
    id,
    merchant_id: scope.merchantId,
    livemode: false,
    type: 'card',
    created_at: now,
    customer_id: null,
    detached_at: null,
    billing_details: details,
    metadata: {},
    allow_redisplay: 'unspecified',
    card_brand: checked.brand,
    card_last4: number.slice(-4),
    card_exp_month: 12,
    card_exp_year: now.getUTCFullYear() + 1,
    card_fingerprint: fingerprint.value,
    card_fingerprint_key: fingerprint.keyId,
    card_funding: cardFunding(number),
    card_country: cardCountry(number),
    card_cvc_check: null,
    card_address_line1_check: null,
    card_address_postal_code_check: null,
    paypal: null,
  };
}
