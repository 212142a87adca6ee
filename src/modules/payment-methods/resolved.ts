// What the payments module gets for a payment_method id: display data for the charge and the API, and
// a way to reach the full card number and CVC for the provider call. The secrets come wrapped in Secret,
// so passing them to a logger or into an event prints a mask.
import type { Secret } from '../vault/secret.js';
import { type PaymentMethodObject, toPaymentMethodObject } from './payment-methods.js';
import { isCardRow, type PaymentMethodRow, type PaymentMethodType } from './payment-methods.table.js';

export interface RevealedCard {
  number: Secret<string>;
  exp_month: number;
  exp_year: number;
  /** The CVC while the vault holds it (at most 1 h after it was given), else null. */
  cvc: Secret<string> | null;
}

export interface ResolvedPaymentMethod {
  id: string;
  /** `wallet`: a customer's wallet (`wal_...`), paid from by the wallet provider. */
  type: PaymentMethodType | 'wallet';
  /** A shared test id (pm_card_visa, ...) rather than a stored payment method. */
  testId: boolean;
  customer: string | null;
  /** Detached payment methods cannot be used for payments again (Stripe's rule). */
  detached: boolean;
  /** Null for types without a card (PayPal). */
  card: {
    brand: string;
    last4: string;
    exp_month: number;
    exp_year: number;
    fingerprint: string;
    funding: string;
    country: string | null;
  } | null;
  object: PaymentMethodObject;
  /** Decrypts the card for the provider call; `purpose` labels vault_decryptions_total. */
  revealCard(purpose: string): Promise<RevealedCard>;
}

export function resolved(
  row: PaymentMethodRow,
  testId: boolean,
  reveal: (purpose: string) => Promise<{ number: Secret<string>; cvc: Secret<string> | null }>,
): ResolvedPaymentMethod {
  const card = isCardRow(row) ? row : undefined;
  return {
    id: row.id,
    type: row.type,
    testId,
    customer: row.customer_id,
    detached: row.detached_at !== null,
    card: card
      ? {
          brand: card.card_brand,
          last4: card.card_last4,
          exp_month: card.card_exp_month,
          exp_year: card.card_exp_year,
          fingerprint: card.card_fingerprint,
          funding: card.card_funding,
          country: card.card_country,
        }
      : null,
    object: toPaymentMethodObject(row),
    async revealCard(purpose) {
      if (!card) throw new Error(`payment method ${row.id} is ${row.type}, not a card`);
      const secret = await reveal(purpose);
      return { ...secret, exp_month: card.card_exp_month, exp_year: card.card_exp_year };
    },
  };
}
