// The inbox's metrics: processing time by outcome (runbook 003's `webhook_processing_duration_seconds`),
// the lag from receipt to processing, and gauges of what waits (pending or failed with a retry due) and
// what is dead. The gauges read the database on scrape, bounded like every live-state gauge.
import client from 'prom-client';
import { within } from '../../observability/metrics.js';

export type ProcessingOutcome = 'processed' | 'ignored' | 'failed' | 'dead';

export class InboxMetrics {
  readonly processing: client.Histogram<'provider' | 'outcome'>;
  readonly lag: client.Histogram<'provider'>;

  constructor(registry: client.Registry, counts: () => Promise<{ pending: number; dead: number }>) {
    this.processing = new client.Histogram({
      name: 'webhook_processing_duration_seconds',
      help: 'Time to process one stored inbound webhook (handlers included), by provider and outcome',
      labelNames: ['provider', 'outcome'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    this.lag = new client.Histogram({
      name: 'webhook_inbox_lag_seconds',
      help: 'Time from receiving an inbound webhook to having processed it',
      labelNames: ['provider'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    });
    // One query serves both gauges of a scrape.
    let shared: { at: number; read: Promise<{ pending: number; dead: number } | undefined> } | undefined;
    const read = () => {
      if (!shared || Date.now() - shared.at > 500) shared = { at: Date.now(), read: within(counts) };
      return shared.read;
    };
    new client.Gauge({
      name: 'webhook_inbox_pending',
      help: 'Inbound webhooks stored but not processed yet (pending, or failed with a retry due)',
      registers: [registry],
      async collect() {
        const value = await read();
        if (value) this.set(value.pending);
      },
    });
    new client.Gauge({
      name: 'webhook_inbox_dead',
      help: 'Inbound webhooks whose processing gave up; replay them with payctl webhooks inbound replay',
      registers: [registry],
      async collect() {
        const value = await read();
        if (value) this.set(value.dead);
      },
    });
  }
}
