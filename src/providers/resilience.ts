// Owns the guards around every provider call (DESIGN section 6), in the order a call meets them:
//   1. an operator's forced state (open: refuse; closed: skip the breaker), read from PostgreSQL
//      through a short cache so every replica obeys it within seconds;
//   2. a provider's own back-off after it answered 429 with Retry-After (until then);
//   3. a bulkhead (cockatiel): PROVIDER_MAX_CONCURRENCY calls in flight, PROVIDER_MAX_QUEUE waiting;
//   4. a token bucket (PROVIDER_RATE_LIMIT_PER_SECOND), waiting a bounded time for a token;
//   5. the circuit breaker (cockatiel SamplingBreaker: a failure ratio over a time window), unless the
//      run-time switch `circuit_breaker_enabled` is off or the provider is forced closed;
//   6. a deadline per call for providers whose adapter does not bound the whole call itself.
// Every refusal by 1-5 happens before the provider is called, so it is `no_charge` (the payment may
// fall back). A call that was sent keeps its own outcome: a timeout stays `unknown` (invariant 3).
import {
  type BulkheadPolicy,
  bulkhead,
  type CircuitBreakerPolicy,
  CircuitState,
  circuitBreaker,
  handleAll,
  isBrokenCircuitError,
  isBulkheadRejectedError,
  isIsolatedCircuitError,
  SamplingBreaker,
} from 'cockatiel';
import client from 'prom-client';
import type { Clock } from '../clock.js';
import type { NoChargeReason, PaymentProvider, ProviderName } from './provider.js';

export const DEFAULT_PROVIDER_TIMEOUT_MS = 10_000;

export class DeadlineExceededError extends Error {
  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
  ) {
    super(`${operation} did not finish within ${timeoutMs} ms`);
    this.name = 'DeadlineExceededError';
  }
}

/**
 * Runs `call` and rejects with DeadlineExceededError once `timeoutMs` has passed. The call itself is
 * not cancelled (the SDK's own timeout ends the socket); its late result is ignored.
 */
export function withDeadline<T>(operation: string, timeoutMs: number, call: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new DeadlineExceededError(operation, timeoutMs)), timeoutMs);
    let pending: Promise<T>;
    try {
      pending = call();
    } catch (error) {
      clearTimeout(timer);
      reject(error);
      return;
    }
    pending.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

export type CircuitStateName = 'closed' | 'open' | 'half_open';
export type ForcedState = 'open' | 'closed';
export const SWITCH_NAMES = ['circuit_breaker_enabled', 'fallback_provider_enabled'] as const;
export type SwitchName = (typeof SWITCH_NAMES)[number];

/** What the operators decided, as every replica reads it (PostgreSQL through a short cache). */
export interface ControlsSnapshot {
  forced: Partial<Record<ProviderName, ForcedState>>;
  switches: Record<SwitchName, boolean>;
}

export interface ControlsSource {
  /** The operators' decisions, at most a couple of seconds old. */
  snapshot(): Promise<ControlsSnapshot>;
  /** The last snapshot read, without waiting (status pages and gauges). */
  peek(): ControlsSnapshot;
}

export interface BreakerSettings {
  failureRatio: number;
  windowMs: number;
  minCalls: number;
  halfOpenAfterMs: number;
}

export interface GuardSettings {
  breaker: BreakerSettings;
  maxConcurrency: number;
  maxQueue: number;
  /** 0 = unlimited. */
  rateLimitPerSecond: number;
  rateLimitMaxWaitMs: number;
  /** A deadline for the whole call; leave unset for adapters that bound their own calls (Stripe). */
  timeoutMs?: number | undefined;
}

/** Reasons that say the provider did not answer as a service should: they count against the breaker. */
const FAILING_NO_CHARGE: ReadonlySet<NoChargeReason> = new Set([
  'connection_refused',
  'dns',
  'tls',
  'rate_limited',
  'authentication',
]);

/**
 * Whether an outcome counts as a failure for the breaker: `unknown` (timeouts, resets, 5xx) and the
 * `no_charge` reasons above. Successes, declines, requires_action and invalid_request mean the
 * provider answered, so they count as successes.
 */
export function isBreakerFailure(outcome: unknown): boolean {
  if (typeof outcome !== 'object' || outcome === null || !('status' in outcome)) return false;
  const { status } = outcome as { status: unknown };
  if (status === 'unknown') return true;
  if (status !== 'no_charge') return false;
  return FAILING_NO_CHARGE.has((outcome as { reason?: unknown }).reason as NoChargeReason);
}

/**
 * SamplingBreaker takes a minimum rate, not a minimum count: the rate that makes `minCalls` calls over
 * the breaker's window (which it rounds to whole sub-windows, computed here the same way). The small
 * margin keeps floating point from demanding one call more than configured.
 */
export function samplingBreakerFor(settings: BreakerSettings): SamplingBreaker {
  const windowCount = Math.max(5, Math.ceil(settings.windowMs / 1000));
  const duration = Math.round(settings.windowMs / windowCount) * windowCount;
  const minimumRps = ((settings.minCalls - 0.001) * 1000) / duration;
  return new SamplingBreaker({ threshold: settings.failureRatio, duration, minimumRps });
}

/** A token bucket of `perSecond` tokens (burst of one second); waits at most `maxWaitMs` for a token. */
export class TokenBucket {
  private tokens: number;
  private refilledAt = performance.now();

  constructor(
    private readonly perSecond: number,
    private readonly maxWaitMs: number,
  ) {
    this.tokens = perSecond;
  }

  /** Takes a token, waiting for one if needed; false when none would come within the wait limit. */
  async take(): Promise<boolean> {
    if (this.perSecond <= 0) return true;
    const now = performance.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.refilledAt) * this.perSecond) / 1000);
    this.refilledAt = now;
    // Waiters reserve their token up front (tokens may go negative), so the order of arrival is kept.
    const waitMs = this.tokens >= 1 ? 0 : ((1 - this.tokens) * 1000) / this.perSecond;
    if (waitMs > this.maxWaitMs) return false;
    this.tokens -= 1;
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, Math.ceil(waitMs)));
    return true;
  }
}

/** The metric families every guard writes to; one set per registry. */
export class ResilienceMetrics {
  readonly calls: client.Counter<'gateway' | 'operation' | 'outcome'>;
  readonly duration: client.Histogram<'gateway' | 'operation'>;
  readonly transitions: client.Counter<'gateway' | 'to'>;
  readonly fallbacks: client.Counter<'from' | 'to'>;

  constructor(registry: client.Registry) {
    this.calls = new client.Counter({
      name: 'payment_provider_calls_total',
      help: 'Provider calls by gateway, operation and outcome (the status; for no_charge its reason, e.g. circuit_open)',
      labelNames: ['gateway', 'operation', 'outcome'],
      registers: [registry],
    });
    this.duration = new client.Histogram({
      name: 'payment_provider_call_duration_seconds',
      help: 'Duration of provider calls that reached the provider, by gateway and operation',
      labelNames: ['gateway', 'operation'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    this.transitions = new client.Counter({
      name: 'payment_provider_circuit_transitions_total',
      help: 'Changes of a provider circuit’s effective state (closed, open, half_open), forced ones included',
      labelNames: ['gateway', 'to'],
      registers: [registry],
    });
    this.fallbacks = new client.Counter({
      name: 'payment_provider_fallbacks_total',
      help: 'Payments that fell back from one provider to the next after a proven no-charge outcome',
      labelNames: ['from', 'to'],
      registers: [registry],
    });
  }
}

export interface GuardStatus {
  state: CircuitStateName;
  /** The breaker's own state, whatever an override or the switch makes of it. */
  breaker_state: CircuitStateName;
  forced: ForcedState | null;
  breaker_enabled: boolean;
  in_flight: number;
  queue_depth: number;
  backoff_until: string | null;
  last_transition: { to: CircuitStateName; at: string } | null;
}

interface GuardDeps {
  name: ProviderName;
  settings: GuardSettings;
  controls: ControlsSource;
  metrics: ResilienceMetrics;
  clock: Clock;
}

/** Refusals made here, told apart from a provider's own 429 (which starts a back-off). */
const localRefusals = new WeakSet<object>();

type Refusal = { status: 'no_charge'; reason: NoChargeReason; message: string };

const STATE_NAMES: Record<CircuitState, CircuitStateName> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Isolated]: 'open',
};

/** The breaker, bulkhead, rate limit and back-off of one provider. */
export class ProviderGuard {
  readonly name: ProviderName;
  private readonly settings: GuardSettings;
  private readonly controls: ControlsSource;
  private readonly metrics: ResilienceMetrics;
  private readonly clock: Clock;
  readonly breaker: CircuitBreakerPolicy;
  private readonly bulkhead: BulkheadPolicy;
  private readonly bucket: TokenBucket;
  private openedAt = 0;
  /** performance.now() until which a 429 holds calls back, and the same instant on the app clock. */
  private backoffUntil = 0;
  private backoffUntilDate: Date | undefined;
  private lastEffective: CircuitStateName = 'closed';
  private lastTransition: { to: CircuitStateName; at: Date } | undefined;

  constructor(deps: GuardDeps) {
    this.name = deps.name;
    this.settings = deps.settings;
    this.controls = deps.controls;
    this.metrics = deps.metrics;
    this.clock = deps.clock;
    this.breaker = circuitBreaker(handleAll.orWhenResult(isBreakerFailure), {
      halfOpenAfter: deps.settings.breaker.halfOpenAfterMs,
      breaker: samplingBreakerFor(deps.settings.breaker),
    });
    this.breaker.onBreak(() => {
      this.openedAt = performance.now();
    });
    this.breaker.onStateChange(() => this.observe(this.controls.peek()));
    this.bulkhead = bulkhead(deps.settings.maxConcurrency, deps.settings.maxQueue);
    this.bucket = new TokenBucket(deps.settings.rateLimitPerSecond, deps.settings.rateLimitMaxWaitMs);
  }

  /** The state callers meet: an override or the switch, else the breaker's own. */
  effectiveState(controls: ControlsSnapshot = this.controls.peek()): CircuitStateName {
    const forced = controls.forced[this.name];
    if (forced) return forced;
    if (!controls.switches.circuit_breaker_enabled) return 'closed';
    return STATE_NAMES[this.breaker.state];
  }

  /** Counts a transition when the effective state changed (a breaker event, an override, the switch). */
  observe(controls: ControlsSnapshot): CircuitStateName {
    const state = this.effectiveState(controls);
    if (state !== this.lastEffective) {
      this.lastEffective = state;
      this.lastTransition = { to: state, at: this.clock.now() };
      this.metrics.transitions.inc({ gateway: this.name, to: state });
    }
    return state;
  }

  status(): GuardStatus {
    const controls = this.controls.peek();
    const backoff = this.backoffUntil > performance.now() ? this.backoffUntilDate : undefined;
    return {
      state: this.observe(controls),
      breaker_state: STATE_NAMES[this.breaker.state],
      forced: controls.forced[this.name] ?? null,
      breaker_enabled: controls.switches.circuit_breaker_enabled,
      in_flight: this.settings.maxConcurrency - this.bulkhead.executionSlots,
      queue_depth: this.settings.maxQueue - this.bulkhead.queueSlots,
      backoff_until: backoff?.toISOString() ?? null,
      last_transition: this.lastTransition
        ? { to: this.lastTransition.to, at: this.lastTransition.at.toISOString() }
        : null,
    };
  }

  get inFlight(): number {
    return this.settings.maxConcurrency - this.bulkhead.executionSlots;
  }

  get queueDepth(): number {
    return this.settings.maxQueue - this.bulkhead.queueSlots;
  }

  /**
   * Runs one provider call through every guard. `call` is invoked at most once, and only when nothing
   * refused it; a refusal is returned as a `no_charge` outcome. Errors the call throws are rethrown
   * (a DeadlineExceededError for the operations that have an `unknown` outcome is mapped by the caller).
   */
  async run<T>(operation: string, call: () => Promise<T>): Promise<T | Refusal> {
    const controls = await this.controls.snapshot();
    const state = this.observe(controls);
    const forced = controls.forced[this.name];
    const useBreaker = forced !== 'closed' && controls.switches.circuit_breaker_enabled;
    const refused = this.precheck(state, forced, useBreaker);
    if (refused) return this.count(operation, refused);
    let reached = false;
    let started = 0;
    const send = async (): Promise<T> => {
      reached = true;
      started = performance.now();
      const { timeoutMs } = this.settings;
      return timeoutMs === undefined ? call() : withDeadline(`${this.name}.${operation}`, timeoutMs, call);
    };
    try {
      const result = await this.bulkhead.execute(async (): Promise<T | Refusal> => {
        const backedOff = this.backoffRefusal();
        if (backedOff) return backedOff;
        if (!(await this.bucket.take())) {
          return this.refusal(
            'rate_limited',
            `${this.name} rate limit of ${this.settings.rateLimitPerSecond} calls per second reached; the call was not sent`,
          );
        }
        return useBreaker ? this.breaker.execute(send) : send();
      });
      this.afterAnswer(result);
      return this.count(operation, result, reached ? started : undefined);
    } catch (error) {
      if (!reached && isBulkheadRejectedError(error)) {
        return this.count(
          operation,
          this.refusal(
            'rate_limited',
            `${this.name} is overloaded: ${this.settings.maxConcurrency} calls in flight and ${this.settings.maxQueue} queued; the call was not sent`,
          ),
        );
      }
      if (!reached && (isBrokenCircuitError(error) || isIsolatedCircuitError(error))) {
        return this.count(operation, this.circuitOpen());
      }
      this.metrics.calls.inc({ gateway: this.name, operation, outcome: 'error' });
      if (reached) this.observeDuration(operation, started);
      throw error;
    }
  }

  private precheck(state: CircuitStateName, forced: ForcedState | undefined, useBreaker: boolean) {
    if (forced === 'open') {
      return this.refusal(
        'circuit_open',
        `${this.name} circuit is forced open by an operator; the call was not sent`,
      );
    }
    if (useBreaker) {
      // Open, and not yet due for a probe; or half-open with its one probe in flight: callers fall
      // back at once instead of queueing behind the probe.
      const due = performance.now() - this.openedAt >= this.settings.breaker.halfOpenAfterMs;
      if ((state === 'open' && !due) || state === 'half_open') return this.circuitOpen();
    }
    return this.backoffRefusal();
  }

  private circuitOpen(): Refusal {
    return this.refusal('circuit_open', `${this.name} circuit is open; the call was not sent`);
  }

  private backoffRefusal(): Refusal | undefined {
    const remaining = this.backoffUntil - performance.now();
    if (remaining <= 0) return undefined;
    return this.refusal(
      'rate_limited',
      `${this.name} asked us to slow down (429); backing off for ${Math.ceil(remaining)} ms; the call was not sent`,
    );
  }

  private refusal(reason: NoChargeReason, message: string): Refusal {
    const refusal: Refusal = { status: 'no_charge', reason, message };
    localRefusals.add(refusal);
    return refusal;
  }

  /**
   * A provider 429 with Retry-After holds every call back until then. Without one (Stripe and PayPal
   * usually send none) nothing is held: the 429 counts against the breaker, which opens on a run of them.
   */
  private afterAnswer(result: unknown): void {
    if (!isLocalRefusal(result) && isRateLimited(result)) {
      const after = (result as { retryAfterMs?: number }).retryAfterMs;
      if (typeof after !== 'number' || after <= 0) return;
      const waitMs = after;
      this.backoffUntil = performance.now() + waitMs;
      this.backoffUntilDate = new Date(this.clock.now().getTime() + waitMs);
    }
  }

  private count<R>(operation: string, result: R, started?: number): R {
    this.metrics.calls.inc({ gateway: this.name, operation, outcome: outcomeLabel(result) });
    if (started !== undefined) this.observeDuration(operation, started);
    return result;
  }

  private observeDuration(operation: string, started: number): void {
    this.metrics.duration.observe({ gateway: this.name, operation }, (performance.now() - started) / 1000);
  }
}

function isLocalRefusal(result: unknown): boolean {
  return typeof result === 'object' && result !== null && localRefusals.has(result);
}

function isRateLimited(result: unknown): boolean {
  return (
    typeof result === 'object' &&
    result !== null &&
    (result as { status?: unknown }).status === 'no_charge' &&
    (result as { reason?: unknown }).reason === 'rate_limited'
  );
}

function outcomeLabel(result: unknown): string {
  if (typeof result !== 'object' || result === null) return 'ok';
  const { status, reason, providerPaymentId } = result as Record<string, unknown>;
  if (status === 'no_charge' && typeof reason === 'string') return reason;
  if (typeof status === 'string') return status;
  return providerPaymentId ? 'created' : 'ok';
}

/** The operations of PaymentProvider whose answers include `unknown`: a deadline maps to it. */
const GUARDED = ['createPayment', 'confirm', 'capture', 'cancel', 'retrieve', 'refund'] as const;
/**
 * Optional provider calls that are guarded like the required ones when the inner provider has them
 * (the PayPal connector's `complete`, capturing an approved order). Any other property or method of the
 * inner provider, `parseWebhook` included, is passed through untouched.
 */
export const GUARDED_OPTIONAL_METHODS: readonly string[] = ['complete'];

/**
 * A PaymentProvider that sends each call through its provider's guard. Built with wrapProvider(), which
 * returns a Proxy so optional methods and extra properties of the inner provider (e.g. PayPal's
 * `cardsEnabled`) read through live.
 */
export class ResilientProvider {
  constructor(
    readonly inner: PaymentProvider,
    readonly guard: ProviderGuard,
  ) {}

  /** Runs one guarded call; a deadline past which the call may have charged becomes `unknown`. */
  async call<T>(operation: string, invoke: () => Promise<T>, hasUnknown: boolean): Promise<T> {
    try {
      return (await this.guard.run(operation, invoke)) as T;
    } catch (error) {
      if (hasUnknown && error instanceof DeadlineExceededError) {
        return { status: 'unknown', message: `${error.message}; it may have reached the provider` } as T;
      }
      throw error;
    }
  }
}

/** Wraps a registry provider: the six operations and the optional ones above are guarded. */
export function wrapProvider<P extends PaymentProvider>(inner: P, guard: ProviderGuard): P {
  const resilient = new ResilientProvider(inner, guard);
  const guarded = new Map<PropertyKey, unknown>();
  return new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'resilience') return resilient;
      const value = Reflect.get(target, property, receiver);
      const isGuarded =
        (GUARDED as readonly PropertyKey[]).includes(property) ||
        GUARDED_OPTIONAL_METHODS.includes(property as string);
      if (typeof value !== 'function' || !isGuarded) {
        return typeof value === 'function' ? value.bind(target) : value;
      }
      let wrapped = guarded.get(property);
      if (!wrapped) {
        const method = value as (...args: unknown[]) => Promise<unknown>;
        const hasUnknown = (GUARDED as readonly PropertyKey[]).includes(property);
        wrapped = (...args: unknown[]) =>
          resilient.call(String(property), () => method.apply(target, args), hasUnknown);
        guarded.set(property, wrapped);
      }
      return wrapped;
    },
  });
}

/** The guard handle of a wrapped provider, or undefined for a provider that is not wrapped. */
export function resilienceOf(provider: PaymentProvider): ResilientProvider | undefined {
  const handle = (provider as unknown as { resilience?: unknown }).resilience;
  return handle instanceof ResilientProvider ? handle : undefined;
}
