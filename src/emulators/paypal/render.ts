// Owns the wire form of every PayPal object: orders (with their captures and authorizations inside
// the purchase unit), captures, authorizations, refunds and disputes, each with PayPal's HATEOAS links.
// Links to the API use the emulator's API URL; the payer's pages use its public URL.
import { wireAmount } from './money.js';
import type {
  AuthorizationRecord,
  CaptureRecord,
  DisputeRecord,
  OrderRecord,
  PaymentSource,
  RefundRecord,
} from './records.js';
import type { PayPalStore } from './store.js';

export interface RenderContext {
  store: PayPalStore;
  apiUrl: string;
  publicUrl: string;
}

const link = (href: string, rel: string, method = 'GET') => ({ href, rel, method });

export function approvalUrl(ctx: RenderContext, orderId: string): string {
  return `${ctx.publicUrl}/checkoutnow?token=${encodeURIComponent(orderId)}`;
}

function renderSource(source: PaymentSource) {
  if (source.type === 'paypal') {
    return { paypal: source.email_address ? { email_address: source.email_address } : {} };
  }
  return {
    card: {
      ...(source.name ? { name: source.name } : {}),
      last_digits: source.last_digits,
      expiry: source.expiry,
      brand: source.brand,
      type: 'CREDIT',
      ...(source.authenticated
        ? {
            authentication_result: {
              liability_shift: 'POSSIBLE',
              three_d_secure: { enrollment_status: 'Y', authentication_status: 'Y' },
            },
          }
        : {}),
    },
  };
}

function orderLinks(ctx: RenderContext, order: OrderRecord) {
  const self = `${ctx.apiUrl}/v2/checkout/orders/${order.id}`;
  const links = [link(self, 'self')];
  if (order.status === 'CREATED') links.push(link(approvalUrl(ctx, order.id), 'approve'));
  if (order.status === 'PAYER_ACTION_REQUIRED') links.push(link(approvalUrl(ctx, order.id), 'payer-action'));
  if (order.status === 'CREATED' || order.status === 'APPROVED') links.push(link(self, 'update', 'PATCH'));
  if (order.status === 'APPROVED') {
    const verb = order.intent === 'CAPTURE' ? 'capture' : 'authorize';
    links.push(link(`${self}/${verb}`, verb, 'POST'));
  }
  return links;
}

export function renderOrder(ctx: RenderContext, order: OrderRecord) {
  const unit = order.purchase_unit;
  const captures = order.capture_ids.map((id) => renderCapture(ctx, ctx.store.get('capture', id)!));
  const authorizations = order.authorization_ids.map((id) =>
    renderAuthorization(ctx, ctx.store.get('authorization', id)!),
  );
  return {
    id: order.id,
    intent: order.intent,
    status: order.status,
    ...(order.source ? { payment_source: renderSource(order.source) } : {}),
    purchase_units: [
      {
        reference_id: unit.reference_id,
        amount: wireAmount(unit.amount),
        payee: { merchant_id: order.account },
        ...(unit.description ? { description: unit.description } : {}),
        ...(unit.custom_id ? { custom_id: unit.custom_id } : {}),
        ...(unit.invoice_id ? { invoice_id: unit.invoice_id } : {}),
        ...(captures.length || authorizations.length
          ? {
              payments: {
                ...(authorizations.length ? { authorizations } : {}),
                ...(captures.length ? { captures } : {}),
              },
            }
          : {}),
      },
    ],
    ...(order.payer ? { payer: order.payer } : {}),
    create_time: order.create_time,
    update_time: order.update_time,
    links: orderLinks(ctx, order),
  };
}

export function renderCapture(ctx: RenderContext, capture: CaptureRecord) {
  const self = `${ctx.apiUrl}/v2/payments/captures/${capture.id}`;
  const completed = capture.status !== 'DECLINED';
  return {
    id: capture.id,
    status: capture.status,
    amount: wireAmount(capture.amount),
    final_capture: capture.final_capture,
    ...(capture.custom_id ? { custom_id: capture.custom_id } : {}),
    ...(capture.invoice_id ? { invoice_id: capture.invoice_id } : {}),
    seller_protection: { status: 'NOT_ELIGIBLE' },
    ...(completed
      ? {
          seller_receivable_breakdown: {
            gross_amount: wireAmount(capture.amount),
            paypal_fee: wireAmount({ currency: capture.amount.currency, minor: capture.fee }),
            net_amount: wireAmount({
              currency: capture.amount.currency,
              minor: capture.amount.minor - capture.fee,
            }),
          },
        }
      : {}),
    ...(capture.processor_response ? { processor_response: capture.processor_response } : {}),
    supplementary_data: {
      related_ids: {
        order_id: capture.order_id,
        ...(capture.authorization_id ? { authorization_id: capture.authorization_id } : {}),
      },
    },
    create_time: capture.create_time,
    update_time: capture.update_time,
    links: [
      link(self, 'self'),
      ...(completed ? [link(`${self}/refund`, 'refund', 'POST')] : []),
      link(`${ctx.apiUrl}/v2/checkout/orders/${capture.order_id}`, 'up'),
    ],
  };
}

export function renderAuthorization(ctx: RenderContext, auth: AuthorizationRecord) {
  const self = `${ctx.apiUrl}/v2/payments/authorizations/${auth.id}`;
  const open = auth.status === 'CREATED' || auth.status === 'PARTIALLY_CAPTURED';
  return {
    id: auth.id,
    status: auth.status,
    amount: wireAmount(auth.amount),
    ...(auth.custom_id ? { custom_id: auth.custom_id } : {}),
    ...(auth.invoice_id ? { invoice_id: auth.invoice_id } : {}),
    seller_protection: { status: 'NOT_ELIGIBLE' },
    ...(auth.processor_response ? { processor_response: auth.processor_response } : {}),
    supplementary_data: { related_ids: { order_id: auth.order_id } },
    expiration_time: auth.expiration_time,
    create_time: auth.create_time,
    update_time: auth.update_time,
    links: [
      link(self, 'self'),
      ...(open ? [link(`${self}/capture`, 'capture', 'POST'), link(`${self}/void`, 'void', 'POST')] : []),
      link(`${ctx.apiUrl}/v2/checkout/orders/${auth.order_id}`, 'up'),
    ],
  };
}

export function renderRefund(ctx: RenderContext, refund: RefundRecord) {
  const capture = ctx.store.get('capture', refund.capture_id);
  return {
    id: refund.id,
    status: refund.status,
    amount: wireAmount(refund.amount),
    ...(refund.custom_id ? { custom_id: refund.custom_id } : {}),
    ...(refund.invoice_id ? { invoice_id: refund.invoice_id } : {}),
    ...(refund.note_to_payer ? { note_to_payer: refund.note_to_payer } : {}),
    seller_payable_breakdown: {
      gross_amount: wireAmount(refund.amount),
      net_amount: wireAmount(refund.amount),
      total_refunded_amount: wireAmount({ currency: refund.amount.currency, minor: capture?.refunded ?? 0 }),
    },
    supplementary_data: { related_ids: { capture_id: refund.capture_id } },
    create_time: refund.create_time,
    update_time: refund.update_time,
    links: [
      link(`${ctx.apiUrl}/v2/payments/refunds/${refund.id}`, 'self'),
      link(`${ctx.apiUrl}/v2/payments/captures/${refund.capture_id}`, 'up'),
    ],
  };
}

export function renderDispute(ctx: RenderContext, dispute: DisputeRecord) {
  const self = `${ctx.apiUrl}/v1/customer/disputes/${dispute.id}`;
  const open = dispute.status !== 'RESOLVED';
  return {
    dispute_id: dispute.id,
    create_time: dispute.create_time,
    update_time: dispute.update_time,
    disputed_transactions: [{ seller_transaction_id: dispute.capture_id }],
    reason: dispute.reason,
    status: dispute.status,
    dispute_amount: wireAmount(dispute.amount),
    ...(dispute.outcome
      ? { dispute_outcome: { outcome_code: dispute.outcome, amount_refunded: wireAmount(dispute.amount) } }
      : {}),
    dispute_life_cycle_stage: dispute.stage,
    dispute_channel: 'EXTERNAL',
    seller_response_due_date: dispute.seller_response_due_date,
    ...(dispute.evidence.length
      ? { evidences: dispute.evidence.map((notes) => ({ evidence_type: 'OTHER', notes })) }
      : {}),
    links: [
      link(self, 'self'),
      ...(open
        ? [
            link(`${self}/provide-evidence`, 'provide_evidence', 'POST'),
            link(`${self}/accept-claim`, 'accept_claim', 'POST'),
          ]
        : []),
    ],
  };
}
