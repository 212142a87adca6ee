// Owns health: each dependency is a named check (database, redis, job runner, and later providers and
// flags); the endpoints in system.routes.ts combine them into the shapes the runbooks expect.

export type CheckStatus = 'up' | 'down' | 'degraded' | 'disabled';

export interface CheckResult {
  status: CheckStatus;
  /** The word runbook 002 expects for this check, e.g. "connected". */
  state: string;
  latency_ms?: number;
  detail?: Record<string, unknown>;
  error?: string;
}

export type HealthCheck = () => Promise<CheckResult>;

export interface HealthCheckSpec {
  name: string;
  /** A critical check that is down makes the service unready and unhealthy. */
  critical: boolean;
  run: HealthCheck;
}

const CHECK_TIMEOUT_MS = 2_000;

export class HealthService {
  private readonly checks: HealthCheckSpec[] = [];
  draining = false;
  readonly startedAt = Date.now();

  register(spec: HealthCheckSpec): void {
    this.checks.push(spec);
  }

  async runAll(): Promise<Record<string, CheckResult & { critical: boolean }>> {
    const results = await Promise.all(
      this.checks.map(async (check) => {
        const started = performance.now();
        const result = await withTimeout(check.run(), CHECK_TIMEOUT_MS).catch(
          (error): CheckResult => ({
            status: 'down',
            state: 'disconnected',
            error: (error as Error).message,
          }),
        );
        return [
          check.name,
          {
            ...result,
            latency_ms: result.latency_ms ?? round(performance.now() - started),
            critical: check.critical,
          },
        ] as const;
      }),
    );
    return Object.fromEntries(results);
  }

  static overall(
    results: Record<string, CheckResult & { critical: boolean }>,
  ): 'healthy' | 'degraded' | 'unhealthy' {
    const values = Object.values(results);
    if (values.some((r) => r.critical && r.status === 'down')) return 'unhealthy';
    if (values.some((r) => r.status === 'down' || r.status === 'degraded')) return 'degraded';
    return 'healthy';
  }
}

function round(ms: number) {
  return Math.round(ms * 100) / 100;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
