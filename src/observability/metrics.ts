// Owns the Prometheus registry. One registry per service instance (tests run several in one process).
// Metric names follow runbook 003 and DESIGN section 10; gauges that read live state collect on scrape.
import client from 'prom-client';

export interface MetricSources {
  poolUsage(): { size: number; inUse: number; waiting: number };
  redisMemoryBytes?: () => Promise<number | undefined>;
  jobQueueDepth(): Promise<{ ready: number; scheduled: number; dead: number }>;
}

/**
 * Live sources wait on the database pool or Redis. A scrape must not wait with them: when the pool is
 * exhausted, pool usage is exactly the series on-call needs, and a hung scrape would lose all of them.
 */
const SOURCE_TIMEOUT_MS = 1_000;

/** A live-state read for a scrape, bounded: a busy or unreachable database never holds /metrics. */
export async function within<T>(read: () => Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), SOURCE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([read().catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export class Metrics {
  readonly registry = new client.Registry();
  readonly httpDuration: client.Histogram<'method' | 'route' | 'status_code'>;
  readonly jobDuration: client.Histogram<'job' | 'outcome'>;
  readonly jobsProcessed: client.Counter<'job' | 'outcome'>;
  readonly authFailures: client.Counter<'reason'>;
  private sources: MetricSources | undefined;

  constructor() {
    client.collectDefaultMetrics({ register: this.registry });
    this.httpDuration = new client.Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route template and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10],
      registers: [this.registry],
    });
    this.jobDuration = new client.Histogram({
      name: 'job_duration_seconds',
      help: 'Background job run time by job name and outcome',
      labelNames: ['job', 'outcome'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60],
      registers: [this.registry],
    });
    this.jobsProcessed = new client.Counter({
      name: 'jobs_processed_total',
      help: 'Background jobs finished, by job name and outcome (succeeded, retried, dead)',
      labelNames: ['job', 'outcome'],
      registers: [this.registry],
    });
    this.authFailures = new client.Counter({
      name: 'api_authentication_failures_total',
      help: 'Rejected API and operator authentications by reason',
      labelNames: ['reason'],
      registers: [this.registry],
    });
    const self = this;
    new client.Gauge({
      name: 'database_connection_pool_usage',
      help: 'Share of database pool connections in use (0 to 1)',
      registers: [this.registry],
      collect() {
        const usage = self.sources?.poolUsage();
        if (usage) this.set(usage.size === 0 ? 0 : usage.inUse / usage.size);
      },
    });
    new client.Gauge({
      name: 'database_connection_pool_waiting',
      help: 'Requests waiting for a database connection',
      registers: [this.registry],
      collect() {
        const usage = self.sources?.poolUsage();
        if (usage) this.set(usage.waiting);
      },
    });
    new client.Gauge({
      name: 'jobs_queue_depth',
      help: 'Jobs by state: ready (due now), scheduled (due later), dead (retries exhausted)',
      labelNames: ['state'],
      registers: [this.registry],
      async collect() {
        const sources = self.sources;
        if (!sources) return;
        // During a database outage the last known depth stays; the other metrics still report.
        const depth = await within(() => sources.jobQueueDepth());
        for (const [state, count] of Object.entries(depth ?? {})) this.set({ state }, count);
      },
    });
  }

  /** Connects the live-state gauges once the database and Redis exist. */
  attach(sources: MetricSources): void {
    this.sources = sources;
    if (sources.redisMemoryBytes) {
      const read = sources.redisMemoryBytes;
      new client.Gauge({
        name: 'redis_memory_usage_bytes',
        help: 'Memory used by Redis (INFO memory used_memory)',
        registers: [this.registry],
        async collect() {
          const bytes = await within(read);
          if (bytes !== undefined) this.set(bytes);
        },
      });
    }
  }
}
