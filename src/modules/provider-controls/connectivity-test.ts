// Runbook 002's "Stripe Connection Test" (`POST /api/payments/test`): for each configured provider that
// takes cards, a small real charge on the sandbox card 4242 4242 4242 4242 and its refund, each timed and
// reported, so on-call sees at once which provider answers. The calls go to the provider adapters
// directly (not through routing or circuit breakers, which would hide the provider's own answer) and
// belong to no merchant: nothing is written to payments, the ledger, events or webhooks, and the provider
// keys them `{mode}:conn_...:{operation}`. A provider that refuses, times out or errors is reported
// failed, never raised. One audit row records who ran it and every result.
import { performance } from 'node:perf_hooks';
import type { Clock } from '../../clock.js';
import { newId } from '../../ids.js';
import type { ProviderName } from '../../money/currencies.js';
import type { AttemptContext, PaymentProvider } from '../../providers/provider.js';
import type { ProviderRegistry } from '../../providers/registry.js';
import type { AuditActor, AuditOrigin } from '../audit/audit.js';
import type { AuditService } from '../audit/audit.service.js';

/** The synthetic owner of connectivity charges: no merchant row, so no merchant's data includes them. */
export const CONNECTIVITY_MERCHANT = 'connectivity_test';

export interface ProviderCheck {
  provider: ProviderName;
  charge: 'ok' | 'failed';
  refund: 'ok' | 'failed' | 'skipped';
  latency_ms: number;
  provider_payment_id?: string;
  error?: string;
}

export interface ConnectivityReport {
  object: 'payments_connectivity_test';
  livemode: boolean;
  amount: number;
  currency: string;
  ok: boolean;
  providers: ProviderCheck[];
}

export interface ConnectivityDeps {
  providers: ProviderRegistry;
  audit: AuditService;
  clock: Clock;
  livemode: boolean;
}

const CARD_PROVIDERS: readonly ProviderName[] = ['stripe', 'paypal'];

export class ConnectivityTest {
  constructor(private readonly deps: ConnectivityDeps) {}

  async run(
    input: { amount: number; currency: string },
    actor: AuditActor,
    origin?: AuditOrigin,
  ): Promise<ConnectivityReport> {
    const names = CARD_PROVIDERS.filter(
      (name) => this.deps.providers.get(name) !== undefined && this.deps.providers.supportsCards(name),
    );
    const checks = await Promise.all(
      names.map((name) => this.check(name, this.deps.providers.get(name) as PaymentProvider, input)),
    );
    const report: ConnectivityReport = {
      object: 'payments_connectivity_test',
      livemode: this.deps.livemode,
      amount: input.amount,
      currency: input.currency,
      ok: checks.length > 0 && checks.every((c) => c.charge === 'ok' && c.refund === 'ok'),
      providers: checks,
    };
    await this.deps.audit.record({
      actor,
      action: 'payment.connectivity_test',
      resourceType: 'provider',
      resourceId: names.join(',') || undefined,
      outcome: report.ok ? 'success' : 'failure',
      origin,
      newValue: report,
    });
    return report;
  }

  private async check(
    name: ProviderName,
    provider: PaymentProvider,
    input: { amount: number; currency: string },
  ): Promise<ProviderCheck> {
    const started = performance.now();
    const attemptId = newId('conn');
    const context: AttemptContext = {
      attemptId,
      livemode: this.deps.livemode,
      merchantId: CONNECTIVITY_MERCHANT,
      paymentIntentId: attemptId,
    };
    const elapsed = () => Math.round(performance.now() - started);
    const failed = (error: string, providerPaymentId?: string): ProviderCheck => ({
      provider: name,
      charge: 'failed',
      refund: 'skipped',
      latency_ms: elapsed(),
      ...(providerPaymentId ? { provider_payment_id: providerPaymentId } : {}),
      error,
    });
    try {
      const created = await provider.createPayment({
        ...context,
        amount: input.amount,
        currency: input.currency,
        captureMethod: 'automatic',
        description: 'Connectivity test (runbook 002), refunded at once',
      });
      if ('status' in created) return failed(`${created.status}: ${created.message}`);
      const paymentId = created.providerPaymentId;
      const year = this.deps.clock.now().getUTCFullYear() + 2;
      const outcome = await provider.confirm(context, paymentId, {
        kind: 'card',
        card: { number: '4242424242424242', expMonth: 12, expYear: year, cvc: '123' },
      });
      if (outcome.status !== 'succeeded') {
        const detail = 'message' in outcome ? `: ${outcome.message}` : '';
        return failed(`${outcome.status}${detail}`, paymentId);
      }
      const refund = await provider.refund(
        { ...context, refundId: newId('conn_re') },
        paymentId,
        input.amount,
      );
      const refunded = refund.status === 'succeeded' || refund.status === 'pending';
      return {
        provider: name,
        charge: 'ok',
        refund: refunded ? 'ok' : 'failed',
        latency_ms: elapsed(),
        provider_payment_id: paymentId,
        ...(refunded
          ? {}
          : { error: `refund ${refund.status}: ${'message' in refund ? refund.message : ''}` }),
      };
    } catch (error) {
      return failed(error instanceof Error ? error.message : String(error));
    }
  }
}
