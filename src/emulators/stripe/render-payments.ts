// Owns the wire form of payment methods, payment intents and charges: every field of Stripe's own
// example objects (test/support/stripe-shape.ts compares them), built from the compact records.
import type { CardDetails, ChargeRecord, PaymentIntentRecord, PaymentMethodRecord } from './records.js';
import type { RenderContext } from './render.js';
import { renderRefund } from './render-money.js';

const NULL_ADDRESS = { city: null, country: null, line1: null, line2: null, postal_code: null, state: null };

export function emptyBillingDetails() {
  return { address: NULL_ADDRESS, email: null, name: null, phone: null, tax_id: null };
}

function checks(card: CardDetails) {
  return { address_line1_check: null, address_postal_code_check: null, cvc_check: card.cvc_check };
}

export function renderPaymentMethod(pm: PaymentMethodRecord) {
  return {
    id: pm.id,
    object: 'payment_method',
    allow_redisplay: 'unspecified',
    billing_details: pm.billing_details,
    card: {
      brand: pm.card.brand,
      checks: checks(pm.card),
      country: pm.card.country,
      display_brand: pm.card.brand,
      exp_month: pm.card.exp_month,
      exp_year: pm.card.exp_year,
      fingerprint: pm.card.fingerprint,
      funding: pm.card.funding,
      generated_from: null,
      last4: pm.card.last4,
      networks: { available: [pm.card.brand], preferred: null },
      three_d_secure_usage: { supported: true },
      wallet: null,
      regulated_status: 'unregulated',
    },
    created: pm.created,
    customer: pm.customer,
    customer_account: null,
    livemode: false,
    metadata: pm.metadata,
    type: 'card',
  };
}

export function renderPaymentIntent(pi: PaymentIntentRecord) {
  const extra = pi.extra;
  return {
    id: pi.id,
    object: 'payment_intent',
    amount: pi.amount,
    amount_capturable: pi.amount_capturable,
    amount_details: { tip: {} },
    amount_received: pi.amount_received,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: pi.automatic_payment_methods,
    canceled_at: pi.canceled_at,
    cancellation_reason: pi.cancellation_reason,
    capture_method: pi.capture_method,
    client_secret: pi.client_secret,
    confirmation_method: pi.confirmation_method,
    created: pi.created,
    currency: pi.currency,
    customer: pi.customer,
    customer_account: null,
    description: pi.description,
    excluded_payment_method_types: null,
    last_payment_error: pi.last_payment_error,
    latest_charge: pi.latest_charge,
    livemode: false,
    managed_payments: null,
    metadata: pi.metadata,
    next_action: pi.next_action ?? null,
    on_behalf_of: null,
    payment_method: pi.payment_method,
    payment_method_configuration_details: null,
    payment_method_options: extra['payment_method_options'] ?? {
      card: { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' },
    },
    payment_method_types: pi.payment_method_types,
    processing: null,
    receipt_email: extra['receipt_email'] ?? null,
    review: null,
    setup_future_usage: extra['setup_future_usage'] ?? null,
    shipping: extra['shipping'] ?? null,
    source: null,
    statement_descriptor: extra['statement_descriptor'] ?? null,
    statement_descriptor_suffix: extra['statement_descriptor_suffix'] ?? null,
    status: pi.status,
    transfer_data: null,
    transfer_group: extra['transfer_group'] ?? null,
  };
}

export function renderCharge(charge: ChargeRecord, context: RenderContext) {
  const refunds = charge.refund_ids
    .slice(-10)
    .reverse()
    .map((id) => context.store.get('refund', id))
    .filter((refund) => refund !== undefined)
    .map((refund) => renderRefund(refund, context));
  return {
    id: charge.id,
    object: 'charge',
    amount: charge.amount,
    amount_captured: charge.amount_captured,
    amount_refunded: charge.amount_refunded,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: charge.balance_transaction,
    billing_details: charge.billing_details,
    calculated_statement_descriptor: 'STRIPE EMULATOR',
    captured: charge.captured,
    created: charge.created,
    currency: charge.currency,
    customer: charge.customer,
    description: charge.description,
    disputed: charge.dispute !== null,
    failure_balance_transaction: null,
    failure_code: charge.failure_code,
    failure_message: charge.failure_message,
    fraud_details: {},
    livemode: false,
    metadata: charge.metadata,
    on_behalf_of: null,
    outcome: charge.outcome,
    paid: charge.status === 'succeeded',
    payment_intent: charge.payment_intent,
    payment_method: charge.payment_method,
    payment_method_details: { card: chargeCardDetails(charge), type: 'card' },
    receipt_email: charge.receipt_email,
    receipt_number: null,
    receipt_url: `${context.baseUrl}/receipts/${charge.id}`,
    refunded: charge.amount_captured > 0 && charge.amount_refunded === charge.amount_captured,
    refunds: {
      object: 'list',
      data: refunds,
      has_more: charge.refund_ids.length > 10,
      total_count: charge.refund_ids.length,
      url: `/v1/charges/${charge.id}/refunds`,
    },
    review: null,
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: charge.status,
    transfer_data: null,
    transfer_group: null,
  };
}

function chargeCardDetails(charge: ChargeRecord) {
  const card = charge.card;
  return {
    amount_authorized: charge.status === 'succeeded' ? charge.amount : null,
    authorization_code: charge.status === 'succeeded' ? '123456' : null,
    brand: card.brand,
    checks: checks(card),
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
    network_transaction_id: charge.status === 'succeeded' ? `emu${charge.id.slice(3, 18)}` : null,
    overcapture: { maximum_amount_capturable: charge.amount, status: 'unavailable' },
    regulated_status: 'unregulated',
    three_d_secure: charge.three_d_secure
      ? {
          authentication_flow: 'challenge',
          electronic_commerce_indicator: '05',
          exemption_indicator: null,
          result: 'authenticated',
          result_reason: null,
          transaction_id: null,
          version: '2.2.0',
        }
      : null,
    transaction_link_id: null,
    wallet: null,
  };
}
