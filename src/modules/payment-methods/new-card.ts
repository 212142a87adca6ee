// Creating a card payment method: every check runs before anything is written, then the display row and
// the vault entry (and the CVC, when given) are written in the caller's transaction.
import type { Transaction } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import { AppError } from '../../http/errors.js';
import type { Scope } from '../../http/expand.js';
import { newId } from '../../ids.js';
import { Secret } from '../vault/secret.js';
import type { VaultService } from '../vault/vault.service.js';
import { checkCvc, checkExpiry, checkNumber } from './cards.js';
import { insertPaymentMethod } from './payment-methods.repository.js';
import type { PaymentMethodRow } from './payment-methods.table.js';
import { cardCountry, cardFunding, isSandboxCard } from './sandbox-cards.js';

export interface CardDeps {
  clock: Clock;
  vault: VaultService;
}

export interface NewCard {
  number: string;
  exp_month: number;
  exp_year: number;
  cvc?: string | undefined;
}

/** Every check runs before anything is written, so a refused card leaves no trace. */
export async function storeNewCard(
  { clock, vault }: CardDeps,
  trx: Transaction<Database>,
  scope: Scope,
  card: NewCard,
  extra: Pick<PaymentMethodRow, 'allow_redisplay'> & {
    billing_details: string;
    metadata: string;
    card_address_line1_check: string | null;
    card_address_postal_code_check: string | null;
    customer_id?: string;
  },
): Promise<PaymentMethodRow> {
  const checked = checkNumber(card.number);
  if (scope.livemode && isSandboxCard(checked.digits)) {
    throw new AppError(
      400,
      'invalid_request_error',
      'live_mode_test_card',
      'Your card was declined. Your request was in live mode, but used a known test card.',
      { param: 'card[number]', shouldRetry: false, releasesIdempotencyKey: true },
    );
  }
  const expiry = checkExpiry(card.exp_month, card.exp_year, clock.now());
  if (card.cvc !== undefined) checkCvc(card.cvc, checked);
  const number = new Secret(checked.digits);
  const fingerprint = vault.fingerprint(scope.merchantId, number);
  const id = newId('pm');
  const row = await insertPaymentMethod(trx, {
    id,
    merchant_id: scope.merchantId,
    livemode: scope.livemode,
    type: 'card',
    created_at: clock.now(),
    customer_id: extra.customer_id ?? null,
    detached_at: null,
    billing_details: extra.billing_details,
    metadata: extra.metadata,
    allow_redisplay: extra.allow_redisplay,
    card_brand: checked.brand,
    card_last4: checked.digits.slice(-4),
    card_exp_month: expiry.month,
    card_exp_year: expiry.year,
    card_fingerprint: fingerprint.value,
    card_fingerprint_key: fingerprint.keyId,
    card_funding: cardFunding(checked.digits),
    card_country: cardCountry(checked.digits),
    card_cvc_check: card.cvc !== undefined ? 'unchecked' : null,
    card_address_line1_check: extra.card_address_line1_check,
    card_address_postal_code_check: extra.card_address_postal_code_check,
  });
  await vault.store(trx, scope, id, { number });
  if (card.cvc !== undefined) await vault.storeCvc(scope, id, new Secret(card.cvc), { executor: trx });
  return row;
}
