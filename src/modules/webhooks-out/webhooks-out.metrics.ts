// Outbound webhook metrics: deliveries by outcome, the HTTP attempt's duration, the lag from event to
// successful delivery, and the outbox's pending and dead counts read from the database on scrape.
import client from 'prom-client';
import { within } from '../../observability/metrics.js';

export type DeliveryOutcome = 'succeeded' | 'failed' | 'dead' | 'disabled' | 'skipped';

export class WebhookMetrics {
  readonly deliveries: client.Counter<'status'>;
  readonly duration: client.Histogram<'outcome'>;
  readonly lag: client.Histogram;

  constructor(registry: client.Registry, outbox: () => Promise<{ pending: number; dead: number }>) {
    const registers = [registry];
    this.deliveries = new client.Counter({
      name: 'webhook_deliveries_total',
      help: 'Outbound webhook attempts by outcome (failed = will retry; disabled = the endpoint was disabled)',
      labelNames: ['status'],
      registers,
    });
    this.duration = new client.Histogram({
      name: 'webhook_delivery_duration_seconds',
      help: 'Duration of one outbound webhook HTTP attempt',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30],
      registers,
    });
    this.lag = new client.Histogram({
      name: 'webhook_delivery_lag_seconds',
      help: 'Time from an event being recorded to its successful delivery',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 5, 30, 60, 300, 1800, 3600, 21_600, 86_400, 259_200],
      registers,
    });
    // One query serves both gauges; a scrape collects them one after the other.
    // Bounded like the other database gauges: with the pool exhausted /metrics still answers (without them).
    let reading: Promise<{ pending: number; dead: number } | undefined> | undefined;
    const read = () => {
      reading ??= within(outbox).finally(() => {
        setTimeout(() => {
          reading = undefined;
        }, 100).unref();
      });
      return reading;
    };
    new client.Gauge({
      name: 'webhook_outbox_pending',
      help: 'Deliveries waiting for a first attempt or a retry',
      registers,
      async collect() {
        const counts = await read();
        if (counts) this.set(counts.pending);
      },
    });
    new client.Gauge({
      name: 'webhook_outbox_dead',
      help: 'Deliveries that exhausted the retry ladder (replay them with payctl webhooks replay)',
      registers,
      async collect() {
        const counts = await read();
        if (counts) this.set(counts.dead);
      },
    });
  }
}
