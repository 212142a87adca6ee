// Owns the order lifecycle before money moves: create, confirm-payment-source (PayPal wallet or card),
// and the payer's approval page outcome. Status table: CREATED -(paypal source)-> PAYER_ACTION_REQUIRED
// -(approve)-> APPROVED; CREATED -(card)-> APPROVED, or PAYER_ACTION_REQUIRED for the 3-D Secure card;
// a payer who cancels leaves the order PAYER_ACTION_REQUIRED and never approvable.
import { sha256Hex } from '../../ids.js';
import type { Caller } from './auth.js';
import { checkCard } from './cards.js';
import type { Ctx } from './context.js';
import { invalidRequest, unprocessable } from './errors.js';
import { parseAmount } from './money.js';
import type { OrderRecord, PaymentSource, PurchaseUnit } from './records.js';
import { renderOrder } from './render.js';
import { isoTime, paypalId } from './store.js';

const CONFIRMABLE = new Set(['CREATED', 'PAYER_ACTION_REQUIRED', 'APPROVED']);

function optionalText(value: unknown, field: string, max: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length > max) {
    throw invalidRequest(
      'INVALID_STRING_MAX_LENGTH',
      `The value of a field is too long (at most ${max}).`,
      field,
    );
  }
  return value;
}

function parseUnit(input: unknown): PurchaseUnit {
  if (!input || typeof input !== 'object') {
    throw invalidRequest(
      'MISSING_REQUIRED_PARAMETER',
      'A required field / parameter is missing.',
      '/purchase_units',
    );
  }
  const unit = input as Record<string, unknown>;
  const field = "/purchase_units/@reference_id=='default'";
  return {
    reference_id: optionalText(unit['reference_id'], `${field}/reference_id`, 256) ?? 'default',
    custom_id: optionalText(unit['custom_id'], `${field}/custom_id`, 127),
    invoice_id: optionalText(unit['invoice_id'], `${field}/invoice_id`, 127),
    description: optionalText(unit['description'], `${field}/description`, 127),
    amount: parseAmount(unit['amount'], `${field}/amount`),
  };
}

function redirectUrl(value: unknown, field: string): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || !/^https?:\/\//.test(value)) {
    throw invalidRequest(
      'INVALID_PARAMETER_SYNTAX',
      'The value of a field does not conform to the expected format.',
      field,
    );
  }
  return value;
}

interface SourceChoice {
  source: PaymentSource;
  needsPayer: boolean;
  return_url: string | null;
  cancel_url: string | null;
}

function parseSource(input: unknown, caller: Caller, today: Date): SourceChoice {
  const given = input && typeof input === 'object' ? (input as Record<string, unknown>) : {};
  const kinds = Object.keys(given);
  if (kinds.length !== 1 || (kinds[0] !== 'paypal' && kinds[0] !== 'card')) {
    throw unprocessable(
      'PAYMENT_SOURCE_NOT_SUPPORTED',
      'The payment source is not supported by this emulator: give exactly one of paypal or card.',
      '/payment_source',
    );
  }
  const details = (given[kinds[0]] ?? {}) as Record<string, unknown>;
  const context = (details['experience_context'] ?? {}) as Record<string, unknown>;
  const base = `/payment_source/${kinds[0]}/experience_context`;
  const urls = {
    return_url: redirectUrl(context['return_url'], `${base}/return_url`),
    cancel_url: redirectUrl(context['cancel_url'], `${base}/cancel_url`),
  };
  if (kinds[0] === 'paypal') {
    const email = typeof details['email_address'] === 'string' ? details['email_address'] : null;
    return { source: { type: 'paypal', email_address: email }, needsPayer: true, ...urls };
  }
  if (!caller.acdc) {
    throw unprocessable(
      'PAYEE_NOT_ENABLED_FOR_CARD_PROCESSING',
      'The API Caller account is not setup to be able to process card payments. Please contact PayPal customer support.',
      '/payment_source/card',
    );
  }
  const card = checkCard(details, today);
  // SCA_ALWAYS asks for 3-D Secure on any card (PayPal's contingency); SCA_WHEN_REQUIRED only when the
  // card itself demands it.
  const verification = (details['attributes'] as { verification?: { method?: unknown } } | undefined)
    ?.verification?.method;
  return { source: card, needsPayer: card.scenario === 'three_ds' || verification === 'SCA_ALWAYS', ...urls };
}

/** Attaches a payment source: the confirm-payment-source call, also run by create when one is given. */
export function confirmSource(ctx: Ctx, order: OrderRecord, input: unknown, caller: Caller): OrderRecord {
  if (!CONFIRMABLE.has(order.status) || order.payer_cancelled) {
    throw unprocessable(
      order.payer_cancelled ? 'ORDER_CANNOT_BE_CONFIRMED' : 'ORDER_ALREADY_COMPLETED',
      order.payer_cancelled
        ? 'The payer cancelled this order; create a new one.'
        : 'The order cannot be confirmed because it is already completed or voided.',
    );
  }
  const choice = parseSource(input, caller, ctx.now);
  return ctx.store.update(order, {
    source: choice.source,
    status: choice.needsPayer ? 'PAYER_ACTION_REQUIRED' : 'APPROVED',
    return_url: choice.return_url,
    cancel_url: choice.cancel_url,
    payer: null,
    update_time: isoTime(ctx.now),
  });
}

export function createOrder(ctx: Ctx, body: Record<string, unknown>, caller: Caller): OrderRecord {
  const intent = body['intent'];
  if (intent !== 'CAPTURE' && intent !== 'AUTHORIZE') {
    throw invalidRequest(
      intent === undefined ? 'MISSING_REQUIRED_PARAMETER' : 'INVALID_PARAMETER_VALUE',
      'The value of a field is invalid: intent must be CAPTURE or AUTHORIZE.',
      '/intent',
    );
  }
  const units = body['purchase_units'];
  if (!Array.isArray(units) || units.length === 0) {
    throw invalidRequest(
      'MISSING_REQUIRED_PARAMETER',
      'A required field / parameter is missing.',
      '/purchase_units',
    );
  }
  if (units.length > 1) {
    throw unprocessable(
      'MULTIPLE_PURCHASE_UNITS_NOT_SUPPORTED',
      'This emulator takes one purchase unit per order.',
      '/purchase_units',
    );
  }
  const unit = parseUnit(units[0]);
  const now = isoTime(ctx.now);
  let order = ctx.store.insert<OrderRecord>({
    kind: 'order',
    id: paypalId(),
    account: caller.account,
    intent,
    status: 'CREATED',
    purchase_unit: unit,
    source: null,
    payer: null,
    return_url: null,
    cancel_url: null,
    payer_cancelled: false,
    create_time: now,
    update_time: now,
    capture_ids: [],
    authorization_ids: [],
  });
  if (body['payment_source'] !== undefined) order = confirmSource(ctx, order, body['payment_source'], caller);
  return order;
}

/** Whether the approval page may still approve or cancel this order. */
export function awaitingPayer(order: OrderRecord): boolean {
  return !order.payer_cancelled && (order.status === 'CREATED' || order.status === 'PAYER_ACTION_REQUIRED');
}

/** The approval page's `action=approve`: the payer logs in and agrees (or passes 3-D Secure). */
export function approveOrder(ctx: Ctx, order: OrderRecord): OrderRecord {
  const payerId = sha256Hex(`payer ${order.account} ${order.id}`).slice(0, 13).toUpperCase();
  const card = order.source?.type === 'card' ? order.source : null;
  const email =
    order.source?.type === 'paypal' && order.source.email_address
      ? order.source.email_address
      : 'sb-buyer@personal.example.com';
  const approved = ctx.store.update(order, {
    status: 'APPROVED',
    source: card ? { ...card, authenticated: true } : { type: 'paypal', email_address: email },
    payer: card
      ? null
      : { email_address: email, payer_id: payerId, name: { given_name: 'Sandbox', surname: 'Buyer' } },
    update_time: isoTime(ctx.now),
  });
  ctx.emit(approved.account, {
    event_type: 'CHECKOUT.ORDER.APPROVED',
    resource_type: 'checkout-order',
    resource_version: '2.0',
    summary: 'An order has been approved by buyer',
    resource: renderOrder(ctx.render, approved),
  });
  return approved;
}

/** The approval page's `action=fail`: the payer cancels; the order can never be approved again. */
export function cancelByPayer(ctx: Ctx, order: OrderRecord): OrderRecord {
  return ctx.store.update(order, { payer_cancelled: true, update_time: isoTime(ctx.now) });
}
