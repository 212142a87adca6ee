// Owns the one object the payments module talks to providers through: the ordered candidates for a
// payment (routing.ts), each provider wrapped in its guards (resilience.ts), the fallback switch, the
// fallback metric, and the circuit status that /admin/providers, /health/detailed and /metrics show.
// Built in main.ts right after buildProviders.
import client from 'prom-client';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { CheckResult } from '../observability/health.js';
import { within } from '../observability/metrics.js';
import type { PaymentProvider, ProviderName } from './provider.js';
import {
  type ControlsSource,
  type GuardSettings,
  type GuardStatus,
  ProviderGuard,
  ResilienceMetrics,
  wrapProvider,
} from './resilience.js';
import {
  decideRoute,
  PROVIDER_NAMES,
  type RouteDecision,
  type RouteQuery,
  type RoutingDefaults,
  type RoutingRule,
} from './routing.js';

export type { RouteQuery };

export interface RulesSource {
  /** Every routing rule, at most a few seconds old. */
  rules(): Promise<readonly RoutingRule[]>;
}

export interface GatewayOptions {
  providers: { get(name: ProviderName): PaymentProvider | undefined };
  controls: ControlsSource;
  rules: RulesSource;
  defaults: RoutingDefaults;
  settings: Omit<GuardSettings, 'timeoutMs'>;
  /** Whole-call deadlines for providers whose adapters do not bound their own calls (not Stripe). */
  timeouts?: Partial<Record<ProviderName, number>>;
  registry: client.Registry;
  clock: Clock;
}

export interface ProviderStatus extends Partial<GuardStatus> {
  provider: ProviderName;
  configured: boolean;
}

const STATE_VALUE = { closed: 0, open: 1, half_open: 2 } as const;
const FORCED_VALUE = { open: 1, closed: -1 } as const;

export class ProviderGateway {
  private readonly wrapped = new Map<ProviderName, PaymentProvider>();
  private readonly guards = new Map<ProviderName, ProviderGuard>();
  private readonly metrics: ResilienceMetrics;

  constructor(private readonly options: GatewayOptions) {
    this.metrics = new ResilienceMetrics(options.registry);
    for (const name of PROVIDER_NAMES) {
      const inner = options.providers.get(name);
      if (!inner) continue;
      const guard = new ProviderGuard({
        name,
        settings: { ...options.settings, timeoutMs: options.timeouts?.[name] },
        controls: options.controls,
        metrics: this.metrics,
        clock: options.clock,
      });
      this.guards.set(name, guard);
      this.wrapped.set(name, wrapProvider(inner, guard));
    }
    this.registerGauges(options.registry);
  }

  /** Ordered candidates for a payment, possibly empty. The caller tries the next one only on a proven
   * no-charge outcome, and only while fallbackEnabled() says so. */
  async route(query: RouteQuery): Promise<ProviderName[]> {
    return (await this.decide(query)).providers;
  }

  /** route() with the rule that decided and the providers it skipped, for the admin preview. */
  async decide(query: RouteQuery): Promise<RouteDecision> {
    const rules = await this.options.rules.rules();
    return decideRoute(rules, this.options.defaults, query, (name) => this.wrapped.get(name));
  }

  /** The guarded provider; undefined when it is not configured. */
  provider(name: ProviderName): PaymentProvider | undefined {
    return this.wrapped.get(name);
  }

  /** The run-time switch `fallback_provider_enabled` (default FALLBACK_PROVIDER_ENABLED). */
  async fallbackEnabled(): Promise<boolean> {
    return (await this.options.controls.snapshot()).switches.fallback_provider_enabled;
  }

  recordFallback(from: ProviderName, to: ProviderName): void {
    this.metrics.fallbacks.inc({ from, to });
  }

  /**
   * Runs one provider call and reports how long it took, for the attempt's stored latency:
   * `const { value: outcome, latencyMs } = await gateway.timed(() => provider.confirm(...))`.
   * The time includes any wait in the provider's queue or rate limit.
   */
  async timed<T>(call: () => Promise<T>): Promise<{ value: T; latencyMs: number }> {
    const started = performance.now();
    const value = await call();
    return { value, latencyMs: Math.round((performance.now() - started) * 100) / 100 };
  }

  /** Circuit state per configured provider, from the last controls read (never waits). */
  circuitStates(): Record<string, GuardStatus> {
    return Object.fromEntries([...this.guards].map(([name, guard]) => [name, guard.status()]));
  }

  /** Every provider the service knows, configured or not, with fresh controls. */
  async statuses(): Promise<ProviderStatus[]> {
    await this.options.controls.snapshot();
    return PROVIDER_NAMES.map((provider) => {
      const guard = this.guards.get(provider);
      return guard ? { provider, configured: true, ...guard.status() } : { provider, configured: false };
    });
  }

  /** The `provider_circuits` health check: degraded while any configured provider's circuit is open. */
  async healthCheck(): Promise<CheckResult> {
    await this.options.controls.snapshot();
    const states = this.circuitStates();
    const open = Object.entries(states)
      .filter(([, status]) => status.state !== 'closed')
      .map(([name]) => name);
    return {
      status: open.length > 0 ? 'degraded' : 'up',
      state: open.length > 0 ? `open: ${open.join(', ')}` : 'closed',
      detail: states,
    };
  }

  private registerGauges(registry: client.Registry): void {
    const gateway = this;
    // Forced states may have changed on another replica; the read is bounded so that an exhausted
    // pool or a database outage never holds the scrape (the last known states are reported).
    const fresh = async () => {
      await within(() => gateway.options.controls.snapshot());
    };
    new client.Gauge({
      name: 'payment_provider_circuit_state',
      help: 'Effective circuit state per provider: 0 closed, 1 open, 2 half-open (forced states as their effect)',
      labelNames: ['gateway'],
      registers: [registry],
      async collect() {
        await fresh();
        for (const [name, guard] of gateway.guards) {
          this.set({ gateway: name }, STATE_VALUE[guard.status().state]);
        }
      },
    });
    new client.Gauge({
      name: 'payment_provider_circuit_forced',
      help: 'Operator override per provider: 0 automatic, 1 forced open, -1 forced closed',
      labelNames: ['gateway'],
      registers: [registry],
      collect() {
        for (const [name, guard] of gateway.guards) {
          const forced = guard.status().forced;
          this.set({ gateway: name }, forced ? FORCED_VALUE[forced] : 0);
        }
      },
    });
    new client.Gauge({
      name: 'payment_provider_inflight',
      help: 'Provider calls in flight per provider',
      labelNames: ['gateway'],
      registers: [registry],
      collect() {
        for (const [name, guard] of gateway.guards) this.set({ gateway: name }, guard.inFlight);
      },
    });
    new client.Gauge({
      name: 'payment_provider_queue_depth',
      help: 'Provider calls waiting for a concurrency slot per provider',
      labelNames: ['gateway'],
      registers: [registry],
      collect() {
        for (const [name, guard] of gateway.guards) this.set({ gateway: name }, guard.queueDepth);
      },
    });
  }
}

/** The guard settings from config (one set applied to each provider separately). */
export function guardSettingsFrom(config: Config): Omit<GuardSettings, 'timeoutMs'> {
  return {
    breaker: {
      failureRatio: config.CIRCUIT_BREAKER_FAILURE_RATIO,
      windowMs: config.CIRCUIT_BREAKER_WINDOW_MS,
      minCalls: config.CIRCUIT_BREAKER_MIN_CALLS,
      halfOpenAfterMs: config.CIRCUIT_BREAKER_HALF_OPEN_AFTER_MS,
    },
    maxConcurrency: config.PROVIDER_MAX_CONCURRENCY,
    maxQueue: config.PROVIDER_MAX_QUEUE,
    rateLimitPerSecond: config.PROVIDER_RATE_LIMIT_PER_SECOND,
    rateLimitMaxWaitMs: config.PROVIDER_RATE_LIMIT_MAX_WAIT_MS,
  };
}
