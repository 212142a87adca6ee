// The charge resource (one per provider attempt that reached a processor), rendered Stripe-shaped from
// its row and its refunds. Charges are read-only through the API: payments and refunds write them.
import { unixSeconds } from '../../clock.js';
import { listParams } from '../../http/pagination.js';
import { text } from '../../http/params.js';
import { type RefundObject, toRefundObject } from '../refunds/refund-object.js';
import type { ChargeRow, RefundRow } from './payments.table.js';

export const chargeListFilters = {
  ...listParams,
  customer: text(255).optional(),
  payment_intent: text(255).optional(),
};

const EMPTY_BILLING = {
  address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null },
  email: null,
  name: null,
  phone: null,
  tax_id: null,
};

/** Stripe's `outcome.rule` action names: a request for 3DS is `request_credentials`. */
const RULE_ACTIONS = {
  block: 'block',
  review: 'review',
  request_three_d_secure: 'request_credentials',
} as const;

/**
 * The rule that decided this charge's screening, as Stripe's `outcome.rule` (`id`, `action`,
 * `predicate`): the strongest rule that fired, or absent when none did.
 */
function ruleOf(row: ChargeRow) {
  const outcome = row.fraud_outcome;
  if (!outcome || outcome.action === 'allow') return {};
  const rule = outcome.rules.find((fired) => fired.action === outcome.action) ?? outcome.rules[0];
  return rule ? { rule: { id: rule.id, action: RULE_ACTIONS[rule.action], predicate: rule.reason } } : {};
}

function outcomeOf(row: ChargeRow) {
  if (row.status !== 'failed' && row.fraud_outcome?.action === 'review') {
    return {
      advice_code: null,
      network_advice_code: null,
      network_decline_code: null,
      network_status: 'approved_by_network',
      reason: 'rule',
      risk_level: 'elevated',
      ...ruleOf(row),
      seller_message: 'A fraud rule placed this payment in review; it is held until the review is approved.',
      type: 'manual_review',
    };
  }
  if (row.status === 'failed') {
    const issuerDeclined = row.failure_code === 'card_declined';
    return {
      advice_code: null,
      network_advice_code: null,
      network_decline_code: null,
      network_status: issuerDeclined ? 'declined_by_network' : 'not_sent_to_network',
      reason: row.decline_code ?? row.failure_code,
      risk_level: 'normal',
      seller_message: issuerDeclined
        ? 'The bank did not return any further details with this decline.'
        : row.failure_message,
      type: issuerDeclined ? 'issuer_declined' : 'invalid',
    };
  }
  return {
    advice_code: null,
    network_advice_code: null,
    network_decline_code: null,
    network_status: 'approved_by_network',
    reason: null,
    risk_level: 'normal',
    ...ruleOf(row),
    seller_message: 'Payment complete.',
    type: 'authorized',
  };
}

/** Stripe's paypal details; we do not keep the payer's data on the charge. */
const PAYPAL_DETAILS = {
  country: null,
  payer_email: null,
  payer_id: null,
  payer_name: null,
  seller_protection: null,
  transaction_id: null,
};

export function toChargeObject(row: ChargeRow, refunds: RefundRow[] = []) {
  const card = row.card;
  const refundObjects: RefundObject[] = refunds.map(toRefundObject);
  return {
    id: row.id,
    object: 'charge' as const,
    amount: row.amount,
    amount_captured: row.amount_captured,
    amount_refunded: row.amount_refunded,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: row.balance_transaction_id as string | null | Record<string, unknown>,
    billing_details: { ...EMPTY_BILLING, ...((card?.billing_details as object | undefined) ?? {}) },
    calculated_statement_descriptor: null,
    captured: row.captured,
    created: unixSeconds(row.created_at),
    currency: row.currency,
    customer: row.customer_id,
    description: row.description,
    disputed: row.disputed,
    failure_balance_transaction: null,
    failure_code: row.failure_code,
    failure_message: row.failure_message,
    fraud_details: {},
    livemode: row.livemode,
    metadata: row.metadata,
    on_behalf_of: null,
    outcome: outcomeOf(row),
    paid: row.paid,
    payment_intent: row.payment_intent_id,
    payment_method: row.payment_method_id,
    payment_method_details: card
      ? {
          card: {
            amount_authorized: row.status === 'failed' ? null : row.amount,
            brand: card.brand,
            checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: card.cvc_check },
            country: card.country,
            exp_month: card.exp_month,
            exp_year: card.exp_year,
            extended_authorization: { status: 'disabled' },
            fingerprint: card.fingerprint,
            funding: card.funding,
            incremental_authorization: { status: 'unavailable' },
            installments: null,
            last4: card.last4,
            mandate: null,
            multicapture: { status: 'unavailable' },
            network: card.brand,
            network_token: { used: false },
            overcapture: { maximum_amount_capturable: row.amount, status: 'unavailable' },
            three_d_secure: null,
            wallet: null,
            authorization_code: null,
            regulated_status: null,
            network_transaction_id: null,
            transaction_link_id: null,
          },
          type: 'card' as const,
        }
      : row.provider === 'paypal'
        ? { paypal: PAYPAL_DETAILS, type: 'paypal' as const }
        : row.provider === 'wallet'
          ? { wallet: { wallet: row.payment_method_id }, type: 'wallet' as const }
          : null,
    receipt_email: null,
    receipt_number: null,
    receipt_url: null,
    refunded: row.amount_captured > 0 && row.amount_refunded === row.amount_captured,
    refunds: {
      object: 'list' as const,
      data: refundObjects,
      has_more: false,
      url: `/v1/charges/${row.id}/refunds`,
    },
    review: row.review_id,
    shipping: null,
    // Charges made through payment intents carry no legacy Source; Stripe still sends the field.
    source: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: row.status,
    transfer_data: null,
    transfer_group: null,
  };
}

export type ChargeObject = ReturnType<typeof toChargeObject>;
