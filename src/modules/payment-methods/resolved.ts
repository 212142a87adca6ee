// What the payments module gets for a payment_method id: display data for the charge and the API, and
// a way to reach the full card number and CVC for the provider call. The secrets come wrapped in Secret,
// so passing them to a logger or into an event prints a mask.
import type { Secret } from '../vault/secret.js';
import { type PaymentMethodObject, toPaymentMethodObject } from './payment-methods.js';
import type { PaymentMethodRow } from './payment-methods.table.js';

export interface RevealedCard {
  number: Secret<string>;
  exp_month: number;
  exp_year: number;
  /** The CVC while the vault holds it (at most 1 h after it was given), else null. */
  cvc: Secret<string> | null;
}

export interface ResolvedPaymentMethod {
  id: string;
  /** A shared test id (pm_card_visa, ...) rather than a stored payment method. */
  testId: boolean;
  customer: string | null;
  /** Detached payment methods cannot be used for payments again (Stripe's rule). */
  detached: boolean;
  card: {
    brand: string;
    last4: string;
    exp_month: number;
    exp_year: number;
    fingerprint: string;
    funding: string;
    country: string | null;
  };
  object: PaymentMethodObject;
  /** Decrypts the card for the provider call; `purpose` labels vault_decryptions_total. */
  revealCard(purpose: string): Promise<RevealedCard>;
}

export function resolved(
  row: PaymentMethodRow,
  testId: boolean,
  reveal: (purpose: string) => Promise<{ number: Secret<string>; cvc: Secret<string> | null }>,
): ResolvedPaymentMethod {
  return {
    id: row.id,
    testId,
    customer: row.customer_id,
    detached: row.detached_at !== null,
    card: {
      brand: row.card_brand,
      last4: row.card_last4,
      exp_month: row.card_exp_month,
      exp_year: row.card_exp_year,
      fingerprint: row.card_fingerprint,
      funding: row.card_funding,
      country: row.card_country,
    },
    object: toPaymentMethodObject(row),
    async revealCard(purpose) {
      const secret = await reveal(purpose);
      return { ...secret, exp_month: row.card_exp_month, exp_year: row.card_exp_year };
    },
  };
}
