// Owns building the payment providers from config (Medusa's validateOptions first): which Stripe to
// talk to (Stripe itself, an emulator at STRIPE_API_BASE, or the embedded emulator started here on
// loopback), the webhook secrets inbound Stripe events may carry, and the `stripe_api` health check.
// Live mode refuses test keys and emulators before anything starts (DESIGN section 4, runbook 004 E).
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { type StripeEmulator, startStripeEmulator } from '../emulators/stripe/index.js';
import type { HealthService } from '../observability/health.js';
import type { Logger } from '../observability/logger.js';
import type { PaymentProvider, ProviderName } from './provider.js';
import { StripeProvider } from './stripe/stripe.provider.js';

/** The key the embedded emulator is called with: fixed, so its account survives restarts in DATA_DIR. */
export const EMBEDDED_STRIPE_KEY = 'sk_test_embedded_emulator';
const HEALTH_TIMEOUT_MS = 1_500;

export class ProviderConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Refusing to start:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ProviderConfigError';
  }
}

/** Live mode: production, or a live provider key. Test data and sandboxes are refused in it. */
export function isLiveMode(config: Config): boolean {
  return config.APP_ENV === 'production' || /^(sk|rk)_live_/.test(config.STRIPE_SECRET_KEY ?? '');
}

function usesEmbeddedStripe(config: Config): boolean {
  return config.emulators === 'embedded' && !config.STRIPE_API_BASE;
}

/** Every problem with the provider options at once; an empty list means the service may start. */
export function providerConfigProblems(config: Config): string[] {
  const problems: string[] = [];
  const key = config.STRIPE_SECRET_KEY;
  const live = isLiveMode(config);
  const why = config.APP_ENV === 'production' ? 'APP_ENV=production' : 'a live STRIPE_SECRET_KEY';
  if (key && !/^(sk|rk)_(test|live)_[A-Za-z0-9_]+$/.test(key)) {
    problems.push(
      'STRIPE_SECRET_KEY: must be a Stripe secret or restricted key (sk_live_..., sk_test_..., rk_...)',
    );
  } else if (live && key && /^(sk|rk)_test_/.test(key)) {
    problems.push(
      `STRIPE_SECRET_KEY: a test-mode key (${key.slice(0, 8)}...) in live mode (${why}); set the live key (sk_live_...)`,
    );
  }
  if (live && config.emulators === 'embedded') {
    problems.push(
      `EMULATORS: the embedded provider emulators are refused in live mode (${why}); set STRIPE_API_BASE=https://api.stripe.com (EMULATORS then defaults to off) or EMULATORS=off`,
    );
  }
  if (config.STRIPE_API_BASE) {
    const base = new URL(config.STRIPE_API_BASE);
    if (base.pathname !== '/' || base.search) {
      problems.push('STRIPE_API_BASE: must be scheme://host[:port] without a path (the SDK adds /v1)');
    }
    if (!key) problems.push('STRIPE_SECRET_KEY: required when STRIPE_API_BASE is set');
  }
  return problems;
}

export function validateProviderOptions(config: Config): void {
  const problems = providerConfigProblems(config);
  if (problems.length > 0) throw new ProviderConfigError(problems);
}

export interface ProviderRegistry {
  readonly stripe: StripeProvider | undefined;
  /** Secrets inbound Stripe webhooks may be signed with: STRIPE_WEBHOOK_SECRET plus the embedded emulator's. */
  readonly stripeWebhookSecrets: readonly string[];
  readonly emulators: { readonly stripe?: StripeEmulator };
  get(name: ProviderName): PaymentProvider | undefined;
  /** Once the HTTP server listens: the embedded emulator's webhooks go to `<publicUrl>/webhooks/stripe`. */
  listening(publicUrl: string): void;
  close(): Promise<void>;
}

export interface ProviderDeps {
  clock: Clock;
  logger: Logger;
  health: HealthService;
  /** Keep embedded emulator state in memory (in-memory test services) instead of DATA_DIR. */
  inMemory?: boolean;
}

export async function buildProviders(config: Config, deps: ProviderDeps): Promise<ProviderRegistry> {
  validateProviderOptions(config);
  let emulator: StripeEmulator | undefined;
  let apiBase = config.STRIPE_API_BASE;
  let key = config.STRIPE_SECRET_KEY;
  const secrets = [...config.STRIPE_WEBHOOK_SECRET];
  const emulatorSecret = `whsec_${randomBytes(32).toString('base64')}`;
  if (usesEmbeddedStripe(config)) {
    // DATA_DIR is this process's alone only with PGlite (it is locked); elsewhere two processes (the
    // service and a one-shot payctl) could write one journal, so the emulator keeps state in memory.
    const persist = !deps.inMemory && config.databaseKind === 'pglite';
    if (!persist && !deps.inMemory) {
      deps.logger.warn(
        'the embedded Stripe emulator keeps its state in memory with PostgreSQL; to keep it across restarts run `payctl emulator stripe --data-dir DIR` and set STRIPE_API_BASE',
      );
    }
    emulator = await startStripeEmulator({
      port: 0,
      host: '127.0.0.1',
      clock: deps.clock,
      logger: deps.logger.child({ component: 'stripe-emulator' }),
      ...(persist ? { dataDir: path.join(config.DATA_DIR, 'emulators', 'stripe') } : {}),
    });
    apiBase = emulator.url;
    key ??= EMBEDDED_STRIPE_KEY;
    secrets.push(emulatorSecret);
  } else if (key && (!apiBase || new URL(apiBase).hostname === 'api.stripe.com')) {
    deps.logger.info(
      'Stripe: card confirmations send raw card data, which Stripe accepts only on accounts with raw card data APIs enabled',
    );
  }

  const stripe = key
    ? new StripeProvider({
        secretKey: key,
        apiBase,
        timeoutMs: config.STRIPE_TIMEOUT_MS,
        webhookSecrets: Object.freeze([...secrets]),
        clock: deps.clock,
      })
    : undefined;
  if (stripe) {
    deps.health.register({
      name: 'stripe_api',
      critical: false,
      run: async () => {
        try {
          await stripe.ping(HEALTH_TIMEOUT_MS);
          return { status: 'up', state: 'connected', detail: { embedded: emulator !== undefined } };
        } catch (error) {
          return { status: 'down', state: 'disconnected', error: (error as Error).message };
        }
      },
    });
  }

  return {
    stripe,
    stripeWebhookSecrets: Object.freeze([...secrets]),
    emulators: emulator ? { stripe: emulator } : {},
    get: (name) => (name === 'stripe' ? stripe : undefined),
    listening(publicUrl) {
      emulator?.setWebhookTarget({
        url: `${publicUrl.replace(/\/$/, '')}/webhooks/stripe`,
        secret: emulatorSecret,
      });
    },
    async close() {
      await emulator?.close();
    },
  };
}
