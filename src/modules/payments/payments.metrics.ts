// The payment metrics the runbooks alert on (runbook 003's names). An attempt is one confirmation, not
// one provider call; declines carry their own status label so success-rate alerts can leave them out.
import client from 'prom-client';

export type AttemptResult =
  | 'succeeded'
  | 'requires_capture'
  | 'requires_action'
  | 'declined'
  | 'failed'
  | 'processing'
  | 'canceled';

export type GatewayErrorType = 'timeout' | 'unknown_outcome' | 'unavailable' | 'rejected' | 'rate_limited';

export class PaymentMetrics {
  readonly attempts: client.Counter<'gateway'>;
  readonly successes: client.Counter<'gateway'>;
  readonly processed: client.Counter<'gateway' | 'status'>;
  readonly duration: client.Histogram<'gateway'>;
  readonly gatewayErrors: client.Counter<'gateway' | 'error_type'>;
  readonly declines: client.Counter<'gateway' | 'decline_code'>;

  constructor(registry: client.Registry) {
    const registers = [registry];
    this.attempts = new client.Counter({
      name: 'payment_attempts_total',
      help: 'Payment confirmations sent to a provider (one per attempt, not per provider call)',
      labelNames: ['gateway'],
      registers,
    });
    this.successes = new client.Counter({
      name: 'payment_success_total',
      help: 'Payment attempts authorized or captured',
      labelNames: ['gateway'],
      registers,
    });
    this.processed = new client.Counter({
      name: 'payment_processing_total',
      help: 'Payment attempts by result; declines are labelled status="declined", apart from failures',
      labelNames: ['gateway', 'status'],
      registers,
    });
    this.duration = new client.Histogram({
      name: 'payment_processing_duration_seconds',
      help: 'Time from confirmation to the provider outcome, per attempt',
      labelNames: ['gateway'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.gatewayErrors = new client.Counter({
      name: 'payment_gateway_errors_total',
      help: 'Provider calls that failed: timeouts, unknown outcomes, refusals before any charge',
      labelNames: ['gateway', 'error_type'],
      registers,
    });
    this.declines = new client.Counter({
      name: 'payment_declines_total',
      help: 'Card declines by decline code (not errors: the provider answered)',
      labelNames: ['gateway', 'decline_code'],
      registers,
    });
  }

  /** One attempt's result, counted once when it is first known. */
  recordResult(gateway: string, result: AttemptResult, seconds?: number): void {
    this.processed.inc({ gateway, status: result });
    if (result === 'succeeded' || result === 'requires_capture') this.successes.inc({ gateway });
    if (seconds !== undefined) this.duration.observe({ gateway }, seconds);
  }
}
