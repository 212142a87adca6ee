// Health endpoints (runbook 000: /health/payment, /health/detailed; runbook 002: /health/payments),
// liveness and readiness probes for Kubernetes, and /metrics for Prometheus.
import type { FastifyInstance } from 'fastify';
import { type CheckResult, HealthService } from './health.js';
import type { Metrics } from './metrics.js';

const VERSION = process.env.npm_package_version ?? '0.1.0';

export interface SystemRouteDeps {
  health: HealthService;
  metrics: Metrics;
  /** Per-minute payment figures for /health/payments; filled in by the payments module. */
  paymentFigures?: () => Promise<{ transactions_per_minute: number; success_rate: number | null }>;
}

export function registerSystemRoutes(app: FastifyInstance, deps: SystemRouteDeps): void {
  const { health, metrics } = deps;
  const hidden = { schema: { hide: true } };

  app.get('/health', { schema: { tags: ['Health'], summary: 'Liveness: the process is up' } }, async () => ({
    status: 'healthy',
    version: VERSION,
    uptime_seconds: Math.round((Date.now() - health.startedAt) / 1000),
  }));

  app.get(
    '/health/ready',
    { schema: { tags: ['Health'], summary: 'Readiness: dependencies reachable' } },
    async (_req, reply) => {
      const checks = await health.runAll();
      const ready = !health.draining && HealthService.overall(checks) !== 'unhealthy';
      reply.code(ready ? 200 : 503);
      return { status: ready ? 'ready' : 'not_ready', draining: health.draining, checks: summarize(checks) };
    },
  );

  const paymentHealth = async (_req: unknown, reply: { code(n: number): unknown }) => {
    const started = performance.now();
    const checks = await health.runAll();
    const status = HealthService.overall(checks);
    const figures = await deps.paymentFigures?.().catch(() => undefined);
    const transactionsPerMinute = figures?.transactions_per_minute ?? 0;
    reply.code(status === 'unhealthy' ? 503 : 200);
    return {
      status,
      timestamp: new Date().toISOString(),
      checks: {
        stripe_api: checks.stripe_api?.state ?? 'not_configured',
        paypal_api: checks.paypal_api?.state ?? 'not_configured',
        // 'closed', or which providers' circuits are open (runbook 000's first look in an outage).
        provider_circuits: checks.provider_circuits?.state ?? 'not_configured',
        webhook_endpoint: checks.webhook_endpoint?.state ?? 'not_configured',
        database: checks.database?.state ?? 'unknown',
        redis: checks.redis?.state ?? 'not_configured',
        feature_flag: checks.feature_flag?.state ?? 'enabled',
      },
      metrics: {
        response_time_ms: Math.round((performance.now() - started) * 100) / 100,
        transactions_per_minute: transactionsPerMinute,
        // Monitoring scripts compare this number with a threshold; a quiet minute has had no failures,
        // and null would read as 0 in jq and page someone for no traffic.
        success_rate: figures?.success_rate ?? 1,
      },
    };
  };
  app.get(
    '/health/payments',
    { schema: { tags: ['Health'], summary: 'Payment health (runbook 002 shape)' } },
    paymentHealth,
  );
  app.get(
    '/health/payment',
    { schema: { tags: ['Health'], summary: 'Payment health (runbook 000)' } },
    paymentHealth,
  );

  app.get(
    '/health/detailed',
    { schema: { tags: ['Health'], summary: 'Every check with latency and detail' } },
    async (_req, reply) => {
      const checks = await health.runAll();
      const status = HealthService.overall(checks);
      const memory = process.memoryUsage();
      reply.code(status === 'unhealthy' ? 503 : 200);
      return {
        status,
        timestamp: new Date().toISOString(),
        version: VERSION,
        uptime_seconds: Math.round((Date.now() - health.startedAt) / 1000),
        draining: health.draining,
        checks,
        process: {
          pid: process.pid,
          rss_bytes: memory.rss,
          heap_used_bytes: memory.heapUsed,
          node: process.version,
        },
      };
    },
  );

  app.get('/metrics', hidden, async (_req, reply) => {
    reply.header('Content-Type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}

function summarize(checks: Record<string, CheckResult>) {
  return Object.fromEntries(Object.entries(checks).map(([name, result]) => [name, result.status]));
}
