// Owns the PayPal adapter: our PaymentProvider on PayPal's REST API (Orders v2, Payments v2), speaking
// HTTP to PayPal or to an emulator at PAYPAL_API_BASE (there is no other mode). The provider object is
// an order created without a payment source; money moves only when we capture or authorize it. Every
// POST carries PayPal-Request-Id derived from (livemode, attempt, operation), so a repeated call
// replays instead of charging again. Errors become outcomes in paypal.errors.ts, objects in
// paypal.transformers.ts; webhooks are verified in paypal.webhook.ts.
import type { Clock } from '../../clock.js';
import { mimeOf } from '../../modules/files/formats.js';
import { providerSupports } from '../../money/currencies.js';
import {
  type AttemptContext,
  type CreatePaymentRequest,
  DisputeActionError,
  type DisputeOperations,
  type EvidenceFile,
  type PaymentOutcome,
  type PaymentProvider,
  type PaymentSource,
  type ProviderDispute,
  type ProviderEvent,
  type ProviderRecord,
  providerIdempotencyKey,
  type ReconciliationSource,
  type RefundOutcome,
} from '../provider.js';
import { DEFAULT_PROVIDER_TIMEOUT_MS } from '../resilience.js';
import { PayPalClient, PayPalHttpError, type PayPalRequest } from './paypal.client.js';
import { paypalDispute } from './paypal.disputes.js';
import { paymentFailure, refundFailure } from './paypal.errors.js';
import { paypalCaptureRecords } from './paypal.reconciliation.js';
import {
  captureOutcome,
  confirmSourceBody,
  createOrderBody,
  latestAuthorization,
  latestCapture,
  minorUnits,
  money,
  orderOutcome,
  refundOutcome,
} from './paypal.transformers.js';
import type { PayPalCapture, PayPalOrder, PayPalRefund } from './paypal.types.js';
import { PayPalWebhookVerifier } from './paypal.webhook.js';

export interface PayPalProviderOptions {
  clientId: string;
  clientSecret: string;
  /** `scheme://host[:port]`: https://api-m.paypal.com, the sandbox, or an emulator. */
  apiBase: string;
  timeoutMs?: number;
  livemode: boolean;
  /** PAYPAL_WEBHOOK_ID: inbound events are verified against it. */
  webhookId?: string | undefined;
  /** Hosts besides PayPal's that webhook certificates may come from (PAYPAL_CERT_HOSTS, emulators). */
  certHosts?: readonly string[];
  /** The merchant (payer id) whose ACDC capability `checkCardEligibility` reads, and its partner. */
  merchantId?: string | undefined;
  partnerId?: string | undefined;
  clock: Clock;
}

export interface CardEligibility {
  enabled: boolean;
  /** Why cards are off (or how eligibility was established). */
  reason: string;
}

type CreateResult = Awaited<ReturnType<PaymentProvider['createPayment']>>;

const CARD_CAPABILITY = 'CUSTOM_CARD_PROCESSING';

export class PayPalProvider implements PaymentProvider, DisputeOperations, ReconciliationSource {
  readonly name = 'paypal' as const;
  readonly livemode: boolean;
  /**
   * Whether PayPal may take raw cards (ACDC: the CUSTOM_CARD_PROCESSING capability). Off until
   * `checkCardEligibility` establishes it; the registry runs the check at start.
   */
  cardsEnabled = false;
  readonly client: PayPalClient;
  private readonly webhooks: PayPalWebhookVerifier;

  constructor(private readonly options: PayPalProviderOptions) {
    this.livemode = options.livemode;
    this.client = new PayPalClient({
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      apiBase: options.apiBase,
      timeoutMs: options.timeoutMs ?? DEFAULT_PROVIDER_TIMEOUT_MS,
      clock: options.clock,
    });
    this.webhooks = new PayPalWebhookVerifier({
      webhookId: options.webhookId,
      extraCertHosts: options.certHosts ?? [],
      clock: options.clock,
    });
  }

  private now(): number {
    return this.options.clock.now().getTime();
  }

  async createPayment(request: CreatePaymentRequest): Promise<CreateResult> {
    if (!providerSupports('paypal', request.currency, request.amount)) {
      return {
        status: 'no_charge',
        reason: 'invalid_request',
        message: `PayPal does not take ${request.amount} in ${request.currency.toUpperCase()}`,
      };
    }
    try {
      const { body } = await this.client.request<PayPalOrder>({
        method: 'POST',
        path: '/v2/checkout/orders',
        body: createOrderBody(request),
        requestId: providerIdempotencyKey(request, 'create'),
        operation: 'create order',
      });
      if (!body?.id) return { status: 'unknown', message: 'PayPal created an order without an id' };
      return { providerPaymentId: body.id };
    } catch (error) {
      const failure = paymentFailure(error, undefined, this.now());
      if (failure.status === 'no_charge' || failure.status === 'unknown') return failure;
      // Creating an order charges nothing; anything else it answers is unexpected.
      return { status: 'unknown', message: `unexpected answer to create: ${failure.status}` };
    }
  }

  async confirm(
    context: AttemptContext,
    orderId: string,
    source: PaymentSource,
    returnUrl?: string,
  ): Promise<PaymentOutcome> {
    if (source.kind === 'provider_token') {
      return {
        status: 'no_charge',
        reason: 'unsupported',
        message: 'PayPal takes cards or its own approval',
      };
    }
    if (source.kind === 'card' && !this.cardsEnabled) {
      return {
        status: 'no_charge',
        reason: 'unsupported',
        message: 'PayPal card payments are off: the account is not eligible for advanced card processing',
      };
    }
    if (source.kind === 'redirect_wallet' && !returnUrl) {
      return {
        status: 'no_charge',
        reason: 'invalid_request',
        message: 'a PayPal approval needs a return URL',
      };
    }
    const confirmed = await this.order(orderId, {
      method: 'POST',
      path: `/v2/checkout/orders/${encodeURIComponent(orderId)}/confirm-payment-source`,
      body: confirmSourceBody(source, returnUrl, context.requestThreeDSecure),
      requestId: providerIdempotencyKey(context, 'confirm_source'),
      operation: 'confirm payment source',
    });
    // A card the issuer accepted without 3DS leaves the order APPROVED: charge it now, under the key
    // of this confirmation. A wallet, or a card needing 3DS, waits for the shopper.
    if (
      confirmed.outcome.status === 'requires_action' &&
      confirmed.outcome.approved &&
      source.kind === 'card'
    ) {
      let intent = confirmed.order?.intent;
      if (intent !== 'CAPTURE' && intent !== 'AUTHORIZE') {
        // Capturing an order meant to be authorized (or the reverse) would be wrong either way: read it.
        const read = await this.order(orderId, this.getOrder(orderId));
        intent = read.order?.intent;
        if (intent !== 'CAPTURE' && intent !== 'AUTHORIZE') return read.outcome;
      }
      return this.charge(context, orderId, intent, 'confirm');
    }
    return confirmed.outcome;
  }

  /** Captures or authorizes an order the shopper approved (PayPal approval, 3DS). */
  async complete(
    context: AttemptContext,
    orderId: string,
    captureMethod: 'automatic' | 'manual',
  ): Promise<PaymentOutcome> {
    return this.charge(context, orderId, captureMethod === 'manual' ? 'AUTHORIZE' : 'CAPTURE', 'complete');
  }

  async capture(context: AttemptContext, orderId: string, amount: number): Promise<PaymentOutcome> {
    const current = await this.order(orderId, this.getOrder(orderId));
    if (!current.order) return current.outcome;
    const authorization = latestAuthorization(current.order);
    if (current.outcome.status !== 'requires_capture' || !authorization?.id) return current.outcome;
    const currency =
      authorization.amount?.currency_code ?? current.order.purchase_units?.[0]?.amount?.currency_code;
    if (!currency)
      return { status: 'unknown', providerPaymentId: orderId, message: 'authorization without a currency' };
    try {
      const { body } = await this.client.request<PayPalCapture>({
        method: 'POST',
        path: `/v2/payments/authorizations/${encodeURIComponent(authorization.id)}/capture`,
        body: { amount: money(amount, currency), final_capture: true },
        requestId: providerIdempotencyKey(context, 'capture'),
        operation: 'capture authorization',
      });
      return captureOutcome(
        orderId,
        body ?? {},
        current.order.payment_source?.card,
        minorUnits(authorization.amount),
      );
    } catch (error) {
      return this.failed(error, orderId);
    }
  }

  async cancel(context: AttemptContext, orderId: string): Promise<PaymentOutcome> {
    const current = await this.order(orderId, this.getOrder(orderId));
    if (!current.order) return current.outcome;
    const authorization = latestAuthorization(current.order);
    if (current.outcome.status === 'requires_capture' && authorization?.id) {
      try {
        await this.client.request<unknown>({
          method: 'POST',
          path: `/v2/payments/authorizations/${encodeURIComponent(authorization.id)}/void`,
          requestId: providerIdempotencyKey(context, 'cancel'),
          operation: 'void authorization',
        });
        return { status: 'canceled', providerPaymentId: orderId };
      } catch (error) {
        return this.failed(error, orderId);
      }
    }
    const outcome = current.outcome;
    // An order is charged only when we capture or authorize it, and only this adapter does that: one
    // that was neither can charge nothing, so it is canceled without a call (PayPal has no order
    // cancel; an unapproved order simply expires).
    const neverCharged =
      (outcome.status === 'unknown' && outcome.unconfirmed) || outcome.status === 'requires_action';
    return neverCharged ? { status: 'canceled', providerPaymentId: orderId } : outcome;
  }

  async retrieve(_context: AttemptContext, orderId: string): Promise<PaymentOutcome> {
    return (await this.order(orderId, this.getOrder(orderId))).outcome;
  }

  async refund(
    context: AttemptContext & { refundId: string },
    orderId: string,
    amount: number,
  ): Promise<RefundOutcome> {
    let captureId: string | undefined;
    let currency: string | undefined;
    try {
      const { body } = await this.client.request<PayPalOrder>(this.getOrder(orderId));
      const capture = latestCapture(body ?? {});
      captureId = capture?.id;
      currency = capture?.amount?.currency_code;
    } catch (error) {
      const failure = refundFailure(error, this.now());
      // The refund itself was never sent: a failed read proves it did not happen.
      return failure.status === 'unknown'
        ? { status: 'no_charge', reason: 'invalid_request', message: failure.message }
        : failure;
    }
    if (!captureId || !currency) {
      return {
        status: 'failed',
        code: 'charge_not_captured',
        message: `PayPal order ${orderId} has no capture to refund`,
      };
    }
    try {
      const { body } = await this.client.request<PayPalRefund>({
        method: 'POST',
        path: `/v2/payments/captures/${encodeURIComponent(captureId)}/refund`,
        body: { amount: money(amount, currency), custom_id: context.refundId },
        // One key per refund: several partial refunds of one attempt must not replay each other.
        requestId: providerIdempotencyKey(context, `refund_${context.refundId}`),
        operation: 'refund capture',
      });
      return refundOutcome(body ?? {});
    } catch (error) {
      return refundFailure(error, this.now());
    }
  }

  /**
   * PayPal has no staged evidence: with `submit` false nothing is sent (the evidence stays with us);
   * otherwise the text fields go as one OTHER evidence with notes, and the files with it as PayPal's
   * multipart `evidence_file` parts (its `input` part names each document), and the dispute is read back.
   */
  async submitDisputeEvidence(
    providerDisputeId: string,
    evidence: Record<string, string>,
    submit: boolean,
    files: readonly EvidenceFile[],
  ): Promise<ProviderDispute> {
    const path = `/v1/customer/disputes/${encodeURIComponent(providerDisputeId)}`;
    if (submit) {
      const attached = new Set(files.map((file) => file.field));
      const notes = Object.entries(evidence)
        .filter(([field]) => !attached.has(field))
        .map(([field, value]) => `${field}: ${value}`)
        .join('\n');
      const input = {
        evidences: [
          {
            evidence_type: 'OTHER',
            notes,
            ...(files.length > 0
              ? { documents: files.map((file) => ({ name: `${file.field}-${file.filename}` })) }
              : {}),
          },
        ],
      };
      await this.disputeCall({
        method: 'POST',
        path: `${path}/provide-evidence`,
        body: files.length > 0 ? evidenceForm(input, files) : input,
        operation: 'provide dispute evidence',
      });
    }
    return this.readDispute(path);
  }

  async closeDispute(providerDisputeId: string): Promise<ProviderDispute> {
    const path = `/v1/customer/disputes/${encodeURIComponent(providerDisputeId)}`;
    await this.disputeCall({
      method: 'POST',
      path: `${path}/accept-claim`,
      body: { note: 'The merchant accepts the claim.' },
      operation: 'accept dispute claim',
    });
    return this.readDispute(path);
  }

  async paymentOfCharge(providerChargeId: string): Promise<string | undefined> {
    try {
      const { body } = await this.client.request<PayPalCapture>({
        method: 'GET',
        path: `/v2/payments/captures/${encodeURIComponent(providerChargeId)}`,
        operation: 'get capture',
      });
      return body?.supplementary_data?.related_ids?.order_id;
    } catch (error) {
      if (error instanceof PayPalHttpError && error.status === 404) return undefined;
      throw error;
    }
  }

  private async readDispute(path: string): Promise<ProviderDispute> {
    const body = await this.disputeCall({ method: 'GET', path, operation: 'get dispute' });
    const mapped = paypalDispute(body);
    if (!mapped) throw new DisputeActionError('unavailable', 'PayPal answered an unreadable dispute');
    return mapped;
  }

  private async disputeCall(request: PayPalRequest): Promise<unknown> {
    try {
      return (await this.client.request<unknown>(request)).body;
    } catch (error) {
      if (
        error instanceof PayPalHttpError &&
        error.status >= 400 &&
        error.status < 500 &&
        !error.duringToken
      ) {
        throw new DisputeActionError('refused', error.message);
      }
      throw new DisputeActionError('unavailable', `PayPal ${request.operation}: ${(error as Error).message}`);
    }
  }

  parseWebhook(
    rawBody: Buffer,
    headers: Record<string, string | string[] | undefined>,
  ): Promise<ProviderEvent> {
    return this.webhooks.verify(rawBody, headers);
  }

  /**
   * ACDC eligibility: raw cards go through PayPal only when the merchant has the CUSTOM_CARD_PROCESSING
   * capability ACTIVE (GET merchant-integrations). Sets `cardsEnabled`; never throws.
   */
  async checkCardEligibility(
    timeoutMs = this.options.timeoutMs ?? DEFAULT_PROVIDER_TIMEOUT_MS,
  ): Promise<CardEligibility> {
    const merchant = this.options.merchantId;
    const partner = this.options.partnerId ?? merchant;
    const decide = (enabled: boolean, reason: string): CardEligibility => {
      this.cardsEnabled = enabled;
      return { enabled, reason };
    };
    if (!merchant || !partner)
      return decide(false, 'PAYPAL_MERCHANT_ID is not set, so ACDC eligibility cannot be read');
    try {
      const { body } = await this.client.request<{ capabilities?: { name?: string; status?: string }[] }>(
        {
          method: 'GET',
          path: `/v1/customer/partners/${encodeURIComponent(partner)}/merchant-integrations/${encodeURIComponent(merchant)}`,
          operation: 'merchant integration',
        },
        timeoutMs,
      );
      const capability = body?.capabilities?.find((c) => c.name === CARD_CAPABILITY);
      if (capability?.status === 'ACTIVE') return decide(true, `${CARD_CAPABILITY} is ACTIVE`);
      return decide(
        false,
        capability
          ? `${CARD_CAPABILITY} is ${capability.status ?? 'without a status'}`
          : `the account has no ${CARD_CAPABILITY} capability`,
      );
    } catch (error) {
      const failure = paymentFailure(error, undefined, this.now());
      return decide(
        false,
        `the ACDC eligibility check failed: ${'message' in failure ? failure.message : failure.status}`,
      );
    }
  }

  /** A cheap authenticated call for the `paypal_api` health check: a token (cached) proves credentials. */
  /** Captures initiated in [from, to), from transaction search (reconciliation). */
  records(from: Date, to: Date): AsyncIterable<ProviderRecord[]> {
    return paypalCaptureRecords(this.client, from, to);
  }

  async ping(timeoutMs: number): Promise<void> {
    await this.client
      .request({ method: 'GET', path: '/v2/checkout/orders/PING-HEALTH-CHECK', operation: 'ping' }, timeoutMs)
      .catch((error: unknown) => {
        // An unknown order is a 404: PayPal answered and accepted our token, which is all a ping asks.
        if ((error as { status?: number }).status === 404) return;
        throw error;
      });
  }

  private getOrder(orderId: string): PayPalRequest {
    return {
      method: 'GET',
      path: `/v2/checkout/orders/${encodeURIComponent(orderId)}`,
      operation: 'get order',
    };
  }

  /** Captures (intent CAPTURE) or authorizes (AUTHORIZE) an approved order under `operation`'s key. */
  private async charge(
    context: AttemptContext,
    orderId: string,
    intent: string | undefined,
    operation: 'confirm' | 'complete',
  ): Promise<PaymentOutcome> {
    const step = intent === 'AUTHORIZE' ? 'authorize' : 'capture';
    return (
      await this.order(orderId, {
        method: 'POST',
        path: `/v2/checkout/orders/${encodeURIComponent(orderId)}/${step}`,
        body: {},
        requestId: providerIdempotencyKey(context, operation),
        operation: `${step} order`,
      })
    ).outcome;
  }

  /** One call answering with an order, mapped; a state conflict is settled by reading the order. */
  private async order(
    orderId: string,
    request: PayPalRequest,
  ): Promise<{ outcome: PaymentOutcome; order?: PayPalOrder }> {
    try {
      const { body } = await this.client.request<PayPalOrder>(request);
      return { outcome: orderOutcome(body ?? {}, orderId), order: body ?? {} };
    } catch (error) {
      const failure = paymentFailure(error, orderId, this.now());
      if (failure.status !== 'read_back') return { outcome: failure };
      if (request.method === 'GET')
        return { outcome: { status: 'unknown', providerPaymentId: orderId, message: 'unreadable order' } };
      const state = await this.order(orderId, this.getOrder(orderId));
      // The order's state is the evidence; if it cannot be read, the refusal proves nothing either.
      if (state.outcome.status !== 'no_charge') return state;
      return {
        outcome: {
          status: 'unknown',
          providerPaymentId: orderId,
          message: `PayPal refused the ${request.operation} for the order's state, which could not be read: ${state.outcome.message}`,
        },
      };
    }
  }

  private async failed(error: unknown, orderId: string): Promise<PaymentOutcome> {
    const failure = paymentFailure(error, orderId, this.now());
    if (failure.status !== 'read_back') return failure;
    return (await this.order(orderId, this.getOrder(orderId))).outcome;
  }
}

/** PayPal's provide-evidence as multipart: the JSON `input` part, then one `evidence_file` per document. */
function evidenceForm(input: unknown, files: readonly EvidenceFile[]): FormData {
  const form = new FormData();
  form.append('input', new Blob([JSON.stringify(input)], { type: 'application/json' }));
  for (const file of files) {
    form.append(
      'evidence_file',
      new Blob([Buffer.from(file.contents)], { type: mimeOf(file.type) }),
      `${file.field}-${file.filename}`,
    );
  }
  return form;
}
