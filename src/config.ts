// Owns the service's configuration: every environment variable is parsed here, once, with zod,
// and the result is frozen. A malformed value stops the start with a message naming the variable.
import { z } from 'zod';
import { isTrustedProxyEntry } from './http/client-address.js';

const bool = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === '') return fallback;
      const normalized = value.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(normalized)) return true;
      if (['false', '0', 'no', 'off'].includes(normalized)) return false;
      ctx.addIssue({ code: 'custom', message: `must be true or false (got "${value}")` });
      return z.NEVER;
    });

const int = (fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === '') return fallback;
      if (!/^\d+$/.test(value.trim())) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number (got "${value}")` });
        return z.NEVER;
      }
      const parsed = Number(value.trim());
      if (parsed < min || parsed > max) {
        ctx.addIssue({ code: 'custom', message: `must be between ${min} and ${max} (got ${parsed})` });
        return z.NEVER;
      }
      return parsed;
    });

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const url = (protocols: string[]) =>
  optionalString.refine(
    (value) => {
      if (value === undefined) return true;
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL (${protocols.join(' or ')})` },
  );

/** A ratio strictly between 0 and 1 (cockatiel's SamplingBreaker refuses 0 and 1). */
const openRatio = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return fallback;
      const parsed = Number(value.trim());
      if (!Number.isFinite(parsed) || parsed <= 0 || parsed >= 1) {
        ctx.addIssue({ code: 'custom', message: `must be a ratio above 0 and below 1 (got "${value}")` });
        return z.NEVER;
      }
      return parsed;
    });

const ROUTED_PROVIDERS = ['stripe', 'paypal', 'wallet'] as const;
const routingDefaultsSchema = z
  .object({
    card: z.array(z.enum(ROUTED_PROVIDERS)),
    paypal: z.array(z.enum(ROUTED_PROVIDERS)),
    wallet: z.array(z.enum(ROUTED_PROVIDERS)),
  })
  .partial()
  .strict();
export const DEFAULT_ROUTING = Object.freeze({
  card: ['stripe', 'paypal'],
  paypal: ['paypal'],
  wallet: ['wallet'],
}) as Readonly<Record<'card' | 'paypal' | 'wallet', readonly (typeof ROUTED_PROVIDERS)[number][]>>;

/** ROUTING_DEFAULTS: ordered providers per payment method type, as JSON; types left out keep the default. */
const routingDefaults = optionalString.transform((value, ctx) => {
  if (value === undefined) return DEFAULT_ROUTING;
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be JSON such as {"card":["stripe","paypal"]}' });
    return z.NEVER;
  }
  const parsed = routingDefaultsSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    ctx.addIssue({
      code: 'custom',
      message: `${issue?.path.join('.') || 'value'}: ${issue?.message ?? 'invalid'} (payment method types card, paypal, wallet; providers stripe, paypal, wallet)`,
    });
    return z.NEVER;
  }
  return Object.freeze({ ...DEFAULT_ROUTING, ...parsed.data });
});

const csv = optionalString.transform((value) =>
  value === undefined
    ? []
    : value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
);

const envSchema = z.object({
  PORT: int(8080, 0, 65535),
  HOST: optionalString.transform((v) => v ?? '0.0.0.0'),
  APP_ENV: z.enum(['development', 'test', 'staging', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATA_DIR: optionalString.transform((v) => v ?? './data'),
  DATABASE_URL: url(['postgres:', 'postgresql:']),
  READ_REPLICA_URL: url(['postgres:', 'postgresql:']),
  READ_REPLICA_ENABLED: bool(false),
  DB_POOL_SIZE: int(10, 1, 1000),
  DB_POOL_TIMEOUT: int(30, 1, 3600),
  REDIS_URL: url(['redis:', 'rediss:']),
  BOOTSTRAP_SECRET_KEY: optionalString.refine(
    (v) => v === undefined || /^sk_(test|live)_[A-Za-z0-9]{16,}$/.test(v),
    { message: 'must look like sk_test_... or sk_live_... with at least 16 characters after the prefix' },
  ),
  BOOTSTRAP_ADMIN_EMAIL: optionalString.refine((v) => v === undefined || /^[^@\s]+@[^@\s]+$/.test(v), {
    message: 'must be an email address',
  }),
  BOOTSTRAP_ADMIN_PASSWORD: optionalString.refine((v) => v === undefined || v.length >= 12, {
    message: 'must be at least 12 characters',
  }),
  STRIPE_SECRET_KEY: optionalString,
  STRIPE_API_BASE: url(['http:', 'https:']),
  STRIPE_WEBHOOK_SECRET: csv,
  /** Deadline of one Stripe call; a call past it may have charged and is settled later (unknown). */
  STRIPE_TIMEOUT_MS: int(10_000, 100, 120_000),
  PAYPAL_CLIENT_ID: optionalString,
  PAYPAL_CLIENT_SECRET: optionalString,
  PAYPAL_API_BASE: url(['http:', 'https:']),
  PAYPAL_WEBHOOK_ID: optionalString,
  /** Deadline of one PayPal call; a call past it may have charged and is settled later (unknown). */
  PAYPAL_TIMEOUT_MS: int(10_000, 100, 120_000),
  /** Hosts (`host` or `host:port`) besides PayPal's own that webhook certificates may be fetched from. */
  PAYPAL_CERT_HOSTS: csv,
  /** The merchant's PayPal account id (payer id), whose advanced-card (ACDC) capability is checked at start. */
  PAYPAL_MERCHANT_ID: optionalString,
  /** The partner the merchant integrations are read through; the merchant itself when unset. */
  PAYPAL_PARTNER_ID: optionalString,
  EMULATORS: z.enum(['embedded', 'off']).optional(),
  VAULT_KEYS_FILE: optionalString,
  /** Where the audit chain head is published hourly (audit-chain-heads.jsonl); default DATA_DIR. */
  AUDIT_HEAD_DIR: optionalString,
  /** The built operator dashboard served at /dashboard/; default dist/dashboard in the project folder. */
  DASHBOARD_DIR: optionalString,
  /** Addresses, CIDRs or loopback/linklocal/uniquelocal whose X-Forwarded-For is believed; none by default. */
  TRUSTED_PROXIES: csv.refine((entries) => entries.every(isTrustedProxyEntry), {
    message: 'must be comma-separated IP addresses or CIDRs (or loopback, linklocal, uniquelocal)',
  }),
  ALLOW_PRIVATE_WEBHOOK_URLS: bool(false),
  PUBLIC_URL: url(['http:', 'https:']),
  TEST_CLOCK: bool(false),
  CIRCUIT_BREAKER_ENABLED: bool(true),
  FALLBACK_PROVIDER_ENABLED: bool(true),
  /** Share of failed provider calls in the window above which a provider's circuit opens. */
  CIRCUIT_BREAKER_FAILURE_RATIO: openRatio(0.5),
  CIRCUIT_BREAKER_WINDOW_MS: int(30_000, 100, 3_600_000),
  /** Calls the window must hold before the ratio can open the circuit. */
  CIRCUIT_BREAKER_MIN_CALLS: int(10, 1, 1_000_000),
  /** How long an open circuit waits before letting one probe call through (half-open). */
  CIRCUIT_BREAKER_HALF_OPEN_AFTER_MS: int(30_000, 10, 3_600_000),
  /** Concurrent calls per provider; more wait in a queue of PROVIDER_MAX_QUEUE, beyond it no_charge. */
  PROVIDER_MAX_CONCURRENCY: int(512, 1, 100_000),
  PROVIDER_MAX_QUEUE: int(2048, 0, 1_000_000),
  /** Calls per second per provider (0 = unlimited); a call waits up to PROVIDER_RATE_LIMIT_MAX_WAIT_MS. */
  PROVIDER_RATE_LIMIT_PER_SECOND: int(0, 0, 1_000_000),
  PROVIDER_RATE_LIMIT_MAX_WAIT_MS: int(1_000, 0, 60_000),
  ROUTING_DEFAULTS: routingDefaults,
  ENHANCED_MONITORING: bool(false),
  OTEL_EXPORTER_OTLP_ENDPOINT: url(['http:', 'https:']),
  OTEL_TRACES_SAMPLER_ARG: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === '') return 0.1;
      const parsed = Number(value);
      if (!Number.isFinite(parsed) || parsed < 0 || parsed > 1) {
        ctx.addIssue({ code: 'custom', message: `must be a ratio between 0 and 1 (got "${value}")` });
        return z.NEVER;
      }
      return parsed;
    }),
  BODY_LIMIT_BYTES: int(1_048_576, 1024, 50 * 1_048_576),
  /** Longest a client may take to send one whole request (headers and body); 0 turns the limit off. */
  REQUEST_TIMEOUT_MS: int(30_000, 0, 600_000),
  /** Requests per second per API key (Stripe's live-mode limit); a key's own limit overrides it. */
  RATE_LIMIT_PER_KEY_PER_SECOND: int(100, 1, 1_000_000),
  /** Payment creations per minute per shopper (customer, else shopper_ip): runbook 002's "per user". */
  RATE_LIMIT_PER_SHOPPER_PER_MINUTE: int(100, 1, 1_000_000),
  /** Failed authentications from one address allowed within AUTH_FAILURE_WINDOW_SECONDS (runbook 003: 5). */
  AUTH_FAILURES_ALLOWED: int(5, 1, 1_000_000),
  AUTH_FAILURE_WINDOW_SECONDS: int(300, 1, 86_400),
  /** How long the failure past the allowance blocks the address (runbook 003: one hour). */
  IP_BLOCK_SECONDS: int(3_600, 1, 366 * 86_400),
  SHUTDOWN_TIMEOUT_MS: int(25_000, 100, 600_000),
  JOBS_POLL_INTERVAL_MS: int(500, 10, 60_000),
  JOBS_CONCURRENCY: int(4, 1, 256),
  /** Outbound webhook attempts in flight per process: their own job pool, so slow receivers never hold payment jobs. */
  WEBHOOK_CONCURRENCY: int(64, 1, 1024),
  /** How long one outbound webhook attempt may take before it counts as a timeout. */
  WEBHOOK_TIMEOUT_MS: int(15_000, 100, 120_000),
  /** Deliveries one transaction of a replay (an endpoint's failures, a time range) re-queues; a replay takes as many as it needs. */
  WEBHOOK_REPLAY_BATCH_SIZE: int(1_000, 1, 50_000),
  LEDGER_AVAILABILITY_DELAY_SECONDS: int(2 * 86_400, 0, 90 * 86_400),
  LEDGER_BALANCE_SLOTS: int(16, 1, 256),
  WEBHOOK_INBOX_RETENTION_DAYS: int(30, 1, 3650),
  /** Retention of the monthly partitions (issue 8): a month is dropped once all of it is this old. */
  EVENTS_RETENTION_DAYS: int(90, 1, 3650),
  WEBHOOK_DELIVERY_RETENTION_DAYS: int(30, 1, 3650),
  /** Monthly partitions made ahead of the current month, at start and every six hours. */
  PARTITIONS_AHEAD_MONTHS: int(2, 1, 24),
  /** How far PayPal's transaction search lags (up to 3 h): reconciliation stops our side before it. */
  RECONCILIATION_PAYPAL_DELAY_SECONDS: int(10_800, 0, 86_400),
  WEBHOOK_INBOX_MAX_ATTEMPTS: int(12, 1, 50),
  /**
   * Inbound webhooks processed at once per process. A slot holds no connection of its own (jobs that
   * start or finish together share one statement), so slots are cheap; processing is bound by each
   * job's round trips, and on a loaded machine 16 slots kept up with fewer than 400 events/s.
   */
  WEBHOOK_INBOX_CONCURRENCY: int(256, 1, 1024),
  PAYCTL_URL: url(['http:', 'https:']),
  PAYCTL_TOKEN: optionalString,
});

type ParsedEnv = z.output<typeof envSchema>;

export interface Config extends Readonly<ParsedEnv> {
  /** `pglite` unless DATABASE_URL is set. */
  readonly databaseKind: 'pglite' | 'postgres';
  readonly emulators: 'embedded' | 'off';
  readonly publicUrl: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment once. Throws ConfigError naming every malformed variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = envSchema.safeParse(env);
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`);
  // Checks across variables read the raw values, so one start reports every problem at once.
  const given = (name: string) => (env[name] ?? '').trim() !== '';
  if (given('BOOTSTRAP_ADMIN_EMAIL') && !given('BOOTSTRAP_ADMIN_PASSWORD')) {
    problems.push('BOOTSTRAP_ADMIN_PASSWORD: required when BOOTSTRAP_ADMIN_EMAIL is set');
  }
  if (result.success && result.data.READ_REPLICA_ENABLED && !result.data.READ_REPLICA_URL) {
    problems.push('READ_REPLICA_URL: required when READ_REPLICA_ENABLED=true');
  }
  if (result.success && result.data.WEBHOOK_DELIVERY_RETENTION_DAYS > result.data.EVENTS_RETENTION_DAYS) {
    // A delivery is sent from its event: the events must not go first.
    problems.push('WEBHOOK_DELIVERY_RETENTION_DAYS: must not exceed EVENTS_RETENTION_DAYS');
  }
  if (!result.success || problems.length > 0) throw new ConfigError(problems);
  const parsed = result.data;

  const emulators =
    parsed.EMULATORS ?? (parsed.STRIPE_API_BASE || parsed.PAYPAL_API_BASE ? 'off' : 'embedded');
  const config: Config = {
    ...parsed,
    STRIPE_WEBHOOK_SECRET: Object.freeze([...parsed.STRIPE_WEBHOOK_SECRET]) as string[],
    TRUSTED_PROXIES: Object.freeze([...parsed.TRUSTED_PROXIES]) as string[],
    PAYPAL_CERT_HOSTS: Object.freeze([...parsed.PAYPAL_CERT_HOSTS]) as string[],
    databaseKind: parsed.DATABASE_URL ? 'postgres' : 'pglite',
    emulators,
    publicUrl: parsed.PUBLIC_URL ?? `http://127.0.0.1:${parsed.PORT}`,
  };
  return Object.freeze(config);
}
