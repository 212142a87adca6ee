// Owns the money-moving calls: capturing an approved order, authorizing one, capturing (in part) or
// voiding an authorization, and refunding a capture. Card outcomes follow the sandbox cards; PayPal
// wallet payers always succeed. Every state change sends PayPal's webhook for it.
import { cardOutcome } from './cards.js';
import type { Ctx } from './context.js';
import { openDispute } from './disputes.js';
import { unprocessable } from './errors.js';
import { feeFor, type Money, parseAmount } from './money.js';
import type {
  AuthorizationRecord,
  CaptureRecord,
  OrderRecord,
  ProcessorResponse,
  RefundRecord,
} from './records.js';
import { renderAuthorization, renderCapture, renderRefund } from './render.js';
import { isoTime, paypalId } from './store.js';

const AUTHORIZATION_DAYS = 29;

function checkApproved(order: OrderRecord, intent: OrderRecord['intent']): void {
  if (order.status === 'COMPLETED') {
    throw unprocessable(
      intent === 'CAPTURE' ? 'ORDER_ALREADY_CAPTURED' : 'ORDER_ALREADY_AUTHORIZED',
      intent === 'CAPTURE'
        ? "Order already captured.If 'intent=CAPTURE' only one capture per order is allowed."
        : "Order already authorized.If 'intent=AUTHORIZE' only one authorization per order is allowed.",
    );
  }
  if (order.intent !== intent) {
    throw unprocessable(
      'ACTION_DOES_NOT_MATCH_INTENT',
      `Order was created with an intent to '${order.intent}'. Please use /v2/checkout/orders/order_id/${order.intent === 'CAPTURE' ? 'capture' : 'authorize'} to complete the transaction or alternately Create an order with an intent of '${intent}'.`,
    );
  }
  if (order.status !== 'APPROVED') {
    throw unprocessable(
      'ORDER_NOT_APPROVED',
      "Payer has not yet approved the Order for payment. Please redirect the payer to the 'rel':'approve' url returned as part of the HATEOAS links within the Create Order call or provide a valid payment_source in the request.",
    );
  }
}

function outcomeOf(order: OrderRecord): { approved: boolean; processor_response: ProcessorResponse | null } {
  return order.source?.type === 'card'
    ? cardOutcome(order.source)
    : { approved: true, processor_response: null };
}

function newCapture(
  ctx: Ctx,
  order: OrderRecord,
  amount: Money,
  fields: Partial<CaptureRecord>,
): CaptureRecord {
  const now = isoTime(ctx.now);
  const status = fields.status ?? 'COMPLETED';
  return ctx.store.insert<CaptureRecord>({
    kind: 'capture',
    id: paypalId(),
    account: order.account,
    order_id: order.id,
    authorization_id: null,
    status,
    amount,
    fee: status === 'COMPLETED' ? feeFor(amount.minor) : 0,
    final_capture: true,
    custom_id: order.purchase_unit.custom_id,
    invoice_id: order.purchase_unit.invoice_id,
    processor_response: null,
    refunded: 0,
    create_time: now,
    update_time: now,
    ...fields,
  });
}

function announceCapture(ctx: Ctx, order: OrderRecord, capture: CaptureRecord): void {
  const completed = capture.status === 'COMPLETED';
  ctx.emit(capture.account, {
    event_type: completed ? 'PAYMENT.CAPTURE.COMPLETED' : 'PAYMENT.CAPTURE.DENIED',
    resource_type: 'capture',
    resource_version: '2.0',
    summary: `Payment ${completed ? 'completed' : 'denied'} for ${capture.amount.minor} minor units of ${capture.amount.currency}`,
    resource: renderCapture(ctx.render, capture),
  });
  const scenario = order.source?.type === 'card' ? order.source.scenario : undefined;
  if (completed && (scenario === 'dispute' || scenario === 'inquiry'))
    openDispute(ctx, capture, scenario === 'inquiry' ? 'INQUIRY' : 'CHARGEBACK');
}

/** POST /v2/checkout/orders/:id/capture. A card decline is a 201 with the capture DECLINED. */
export function captureOrder(ctx: Ctx, order: OrderRecord): OrderRecord {
  checkApproved(order, 'CAPTURE');
  const outcome = outcomeOf(order);
  const capture = newCapture(ctx, order, order.purchase_unit.amount, {
    status: outcome.approved ? 'COMPLETED' : 'DECLINED',
    processor_response: outcome.processor_response,
  });
  const completed = ctx.store.update(order, {
    status: 'COMPLETED',
    capture_ids: [...order.capture_ids, capture.id],
    update_time: isoTime(ctx.now),
  });
  announceCapture(ctx, completed, capture);
  return completed;
}

/** POST /v2/checkout/orders/:id/authorize. A card decline is a 201 with the authorization DENIED. */
export function authorizeOrder(ctx: Ctx, order: OrderRecord): OrderRecord {
  checkApproved(order, 'AUTHORIZE');
  const outcome = outcomeOf(order);
  const now = isoTime(ctx.now);
  const authorization = ctx.store.insert<AuthorizationRecord>({
    kind: 'authorization',
    id: paypalId(),
    account: order.account,
    order_id: order.id,
    status: outcome.approved ? 'CREATED' : 'DENIED',
    amount: order.purchase_unit.amount,
    captured: 0,
    custom_id: order.purchase_unit.custom_id,
    invoice_id: order.purchase_unit.invoice_id,
    processor_response: outcome.processor_response,
    create_time: now,
    update_time: now,
    expiration_time: isoTime(new Date(ctx.now.getTime() + AUTHORIZATION_DAYS * 86_400_000)),
  });
  const completed = ctx.store.update(order, {
    status: 'COMPLETED',
    authorization_ids: [...order.authorization_ids, authorization.id],
    update_time: now,
  });
  if (outcome.approved) {
    ctx.emit(order.account, {
      event_type: 'PAYMENT.AUTHORIZATION.CREATED',
      resource_type: 'authorization',
      resource_version: '2.0',
      summary: 'A payment authorization was created',
      resource: renderAuthorization(ctx.render, authorization),
    });
  }
  return completed;
}

function checkOpen(ctx: Ctx, auth: AuthorizationRecord): void {
  if (auth.status === 'VOIDED')
    throw unprocessable('AUTHORIZATION_VOIDED', 'A voided authorization cannot be captured or reauthorized.');
  if (auth.status === 'DENIED')
    throw unprocessable('AUTHORIZATION_DENIED', 'A denied authorization cannot be captured.');
  if (auth.status === 'CAPTURED')
    throw unprocessable(
      'AUTHORIZATION_ALREADY_CAPTURED',
      'Authorization has been previously captured and hence cannot be captured again.',
    );
  if (Date.parse(auth.expiration_time) <= ctx.now.getTime()) {
    throw unprocessable('AUTHORIZATION_EXPIRED', 'An expired authorization cannot be captured.');
  }
}

/** POST /v2/payments/authorizations/:id/capture `{ amount?, final_capture? }`. */
export function captureAuthorization(
  ctx: Ctx,
  auth: AuthorizationRecord,
  body: Record<string, unknown>,
): CaptureRecord {
  checkOpen(ctx, auth);
  const remaining = auth.amount.minor - auth.captured;
  const amount =
    body['amount'] === undefined
      ? { currency: auth.amount.currency, minor: remaining }
      : parseAmount(body['amount'], '/amount');
  if (amount.currency !== auth.amount.currency) {
    throw unprocessable(
      'CURRENCY_MISMATCH',
      'Currency of capture must be the same as currency of authorization.',
      '/amount/currency_code',
    );
  }
  if (amount.minor > remaining) {
    throw unprocessable(
      'MAX_CAPTURE_AMOUNT_EXCEEDED',
      'Capture amount exceeds allowable limit. Please contact customer service or your account manager to change the maximum allowable capture amount.',
      '/amount/value',
    );
  }
  const final = body['final_capture'] === true || amount.minor === remaining;
  const order = ctx.store.get('order', auth.order_id)!;
  const capture = newCapture(ctx, order, amount, { authorization_id: auth.id, final_capture: final });
  ctx.store.update(auth, {
    captured: auth.captured + amount.minor,
    status: final ? 'CAPTURED' : 'PARTIALLY_CAPTURED',
    update_time: isoTime(ctx.now),
  });
  const updated = ctx.store.update(order, {
    capture_ids: [...order.capture_ids, capture.id],
    update_time: isoTime(ctx.now),
  });
  announceCapture(ctx, updated, capture);
  return capture;
}

/** POST /v2/payments/authorizations/:id/void. */
export function voidAuthorization(ctx: Ctx, auth: AuthorizationRecord): AuthorizationRecord {
  checkOpen(ctx, auth);
  const voided = ctx.store.update(auth, { status: 'VOIDED', update_time: isoTime(ctx.now) });
  const order = ctx.store.get('order', auth.order_id);
  // Nothing of the order was ever paid: the order itself is void too.
  if (order && auth.captured === 0)
    ctx.store.update(order, { status: 'VOIDED', update_time: isoTime(ctx.now) });
  ctx.emit(auth.account, {
    event_type: 'PAYMENT.AUTHORIZATION.VOIDED',
    resource_type: 'authorization',
    resource_version: '2.0',
    summary: 'A payment authorization was voided',
    resource: renderAuthorization(ctx.render, voided),
  });
  return voided;
}

/** POST /v2/payments/captures/:id/refund `{ amount?, custom_id?, invoice_id?, note_to_payer? }`. */
export function refundCapture(ctx: Ctx, capture: CaptureRecord, body: Record<string, unknown>): RefundRecord {
  if (capture.status === 'DECLINED' || capture.status === 'PENDING') {
    throw unprocessable(
      'REFUND_NOT_ALLOWED',
      'This capture cannot be refunded because it was not completed.',
    );
  }
  const remaining = capture.amount.minor - capture.refunded;
  if (remaining <= 0)
    throw unprocessable('CAPTURE_FULLY_REFUNDED', 'The capture has already been fully refunded');
  const amount =
    body['amount'] === undefined
      ? { currency: capture.amount.currency, minor: remaining }
      : parseAmount(body['amount'], '/amount');
  if (amount.currency !== capture.amount.currency) {
    throw unprocessable(
      'REFUND_CURRENCY_MISMATCH',
      'Refund must be in the same currency as the capture.',
      '/amount/currency_code',
    );
  }
  if (amount.minor > remaining) {
    throw unprocessable(
      'REFUND_AMOUNT_EXCEEDED',
      'The refund amount must be less than or equal to the capture amount that has not yet been refunded.',
      '/amount/value',
    );
  }
  const text = (key: string, max: number) =>
    typeof body[key] === 'string' ? (body[key] as string).slice(0, max) : null;
  const now = isoTime(ctx.now);
  const refunded = capture.refunded + amount.minor;
  ctx.store.update(capture, {
    refunded,
    status: refunded === capture.amount.minor ? 'REFUNDED' : 'PARTIALLY_REFUNDED',
    update_time: now,
  });
  const refund = ctx.store.insert<RefundRecord>({
    kind: 'refund',
    id: paypalId(),
    account: capture.account,
    capture_id: capture.id,
    status: 'COMPLETED',
    amount,
    custom_id: text('custom_id', 127) ?? capture.custom_id,
    invoice_id: text('invoice_id', 127) ?? capture.invoice_id,
    note_to_payer: text('note_to_payer', 255),
    create_time: now,
    update_time: now,
  });
  ctx.emit(capture.account, {
    event_type: 'PAYMENT.CAPTURE.REFUNDED',
    resource_type: 'refund',
    resource_version: '2.0',
    summary: `A ${amount.minor} minor units of ${amount.currency} capture payment was refunded`,
    resource: renderRefund(ctx.render, refund),
  });
  return refund;
}
