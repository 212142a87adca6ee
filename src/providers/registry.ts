// Owns building the payment providers from config (Medusa's validateOptions first): which Stripe and
// which PayPal to talk to (the provider itself, an emulator at STRIPE_API_BASE / PAYPAL_API_BASE, or
// the embedded emulators started here on loopback), the webhook secrets and certificate hosts inbound
// events may carry, PayPal's card (ACDC) eligibility, and the `stripe_api` / `paypal_api` health
// checks. Live mode refuses test keys, sandboxes and emulators before anything starts (DESIGN
// section 4, runbook 004 E).
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import {
  EMBEDDED_PAYPAL_CLIENT_ID,
  EMBEDDED_PAYPAL_CLIENT_SECRET,
  type PayPalEmulator,
  startPayPalEmulator,
} from '../emulators/paypal/index.js';
import { type StripeEmulator, startStripeEmulator } from '../emulators/stripe/index.js';
import type { HealthService } from '../observability/health.js';
import type { Logger } from '../observability/logger.js';
import { PayPalProvider } from './paypal/paypal.provider.js';
import type { PaymentProvider, ProviderName } from './provider.js';
import { StripeProvider } from './stripe/stripe.provider.js';

/** The key the embedded emulator is called with: fixed, so its account survives restarts in DATA_DIR. */
export const EMBEDDED_STRIPE_KEY = 'sk_test_embedded_emulator';
/** The webhook id the embedded PayPal emulator signs with (PAYPAL_WEBHOOK_ID, when set, wins). */
export const EMBEDDED_PAYPAL_WEBHOOK_ID = 'WH-EMBEDDED-EMULATOR';
export const PAYPAL_LIVE_API_BASE = 'https://api-m.paypal.com';
export const PAYPAL_SANDBOX_API_BASE = 'https://api-m.sandbox.paypal.com';
/** The merchant id named in the ACDC read when PAYPAL_MERCHANT_ID is unset and PayPal is an emulator. */
const EMULATOR_MERCHANT_ID = 'EMULATORMERCH';
const HEALTH_TIMEOUT_MS = 1_500;
/** The ACDC check at start may not hold the start up for long: cards stay off when it cannot answer. */
const CARD_CHECK_TIMEOUT_MS = 3_000;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

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

function usesEmbeddedPayPal(config: Config): boolean {
  return config.emulators === 'embedded' && !config.PAYPAL_API_BASE;
}

function paypalProblems(config: Config, live: boolean, why: string): string[] {
  const problems: string[] = [];
  const id = config.PAYPAL_CLIENT_ID;
  const secret = config.PAYPAL_CLIENT_SECRET;
  if (id && !secret) problems.push('PAYPAL_CLIENT_SECRET: required when PAYPAL_CLIENT_ID is set');
  if (secret && !id) problems.push('PAYPAL_CLIENT_ID: required when PAYPAL_CLIENT_SECRET is set');
  if (!config.PAYPAL_API_BASE) return problems;
  const base = new URL(config.PAYPAL_API_BASE);
  if (base.pathname !== '/' || base.search) {
    problems.push(
      'PAYPAL_API_BASE: must be scheme://host[:port] without a path (the connector adds /v1, /v2)',
    );
  }
  if (!id && !secret) {
    problems.push('PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET: required when PAYPAL_API_BASE is set');
  }
  if (live && base.hostname.includes('sandbox')) {
    problems.push(
      `PAYPAL_API_BASE: the PayPal sandbox (${base.host}) in live mode (${why}); set PAYPAL_API_BASE=${PAYPAL_LIVE_API_BASE} with live credentials`,
    );
  } else if (live && (base.protocol !== 'https:' || LOOPBACK_HOSTS.has(base.hostname))) {
    problems.push(
      `PAYPAL_API_BASE: a PayPal emulator (${base.host}) is refused in live mode (${why}); set PAYPAL_API_BASE=${PAYPAL_LIVE_API_BASE}`,
    );
  }
  return problems;
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
  problems.push(...paypalProblems(config, live, why));
  return problems;
}

export function validateProviderOptions(config: Config): void {
  const problems = providerConfigProblems(config);
  if (problems.length > 0) throw new ProviderConfigError(problems);
}

export interface ProviderRegistry {
  readonly stripe: StripeProvider | undefined;
  readonly paypal: PayPalProvider | undefined;
  /** Secrets inbound Stripe webhooks may be signed with: STRIPE_WEBHOOK_SECRET plus the embedded emulator's. */
  readonly stripeWebhookSecrets: readonly string[];
  readonly emulators: { readonly stripe?: StripeEmulator; readonly paypal?: PayPalEmulator };
  get(name: ProviderName): PaymentProvider | undefined;
  /**
   * Whether the provider may be sent raw card data: Stripe when configured; PayPal only when the
   * account's ACDC eligibility (CUSTOM_CARD_PROCESSING) was confirmed at start.
   */
  supportsCards(name: ProviderName): boolean;
  /**
   * Once the HTTP server listens: the embedded emulators' webhooks go to `<publicUrl>/webhooks/stripe`
   * and `<publicUrl>/webhooks/paypal`.
   */
  listening(publicUrl: string): void;
  close(): Promise<void>;
}

export interface ProviderDeps {
  clock: Clock;
  logger: Logger;
  health: HealthService;
  /** Keep embedded emulator state in memory (in-memory test services) instead of DATA_DIR. */
  inMemory?: boolean;
  /** The built-in wallet provider (it reads the ledger, so the composition root makes it). */
  wallet?: PaymentProvider;
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

  let paypal: Awaited<ReturnType<typeof buildPayPal>>;
  try {
    paypal = await buildPayPal(config, deps);
  } catch (error) {
    await emulator?.close();
    throw error;
  }

  return {
    stripe,
    paypal: paypal.provider,
    stripeWebhookSecrets: Object.freeze([...secrets]),
    emulators: {
      ...(emulator ? { stripe: emulator } : {}),
      ...(paypal.emulator ? { paypal: paypal.emulator } : {}),
    },
    get: (name) =>
      name === 'stripe'
        ? stripe
        : name === 'paypal'
          ? paypal.provider
          : name === 'wallet'
            ? deps.wallet
            : undefined,
    supportsCards: (name) =>
      name === 'stripe'
        ? stripe !== undefined
        : name === 'paypal'
          ? (paypal.provider?.cardsEnabled ?? false)
          : false,
    listening(publicUrl) {
      const base = publicUrl.replace(/\/$/, '');
      emulator?.setWebhookTarget({ url: `${base}/webhooks/stripe`, secret: emulatorSecret });
      paypal.emulator?.setWebhookTarget({ url: `${base}/webhooks/paypal`, secret: paypal.webhookId ?? '' });
    },
    async close() {
      await emulator?.close();
      await paypal.emulator?.close();
    },
  };
}

/** PayPal: the embedded emulator, or PAYPAL_API_BASE, or PayPal itself (live or sandbox by mode). */
async function buildPayPal(
  config: Config,
  deps: ProviderDeps,
): Promise<{ provider?: PayPalProvider; emulator?: PayPalEmulator; webhookId?: string | undefined }> {
  const live = isLiveMode(config);
  const certHosts = [...config.PAYPAL_CERT_HOSTS];
  let clientId = config.PAYPAL_CLIENT_ID;
  let clientSecret = config.PAYPAL_CLIENT_SECRET;
  let webhookId = config.PAYPAL_WEBHOOK_ID;
  let apiBase = config.PAYPAL_API_BASE;
  let emulator: PayPalEmulator | undefined;
  if (usesEmbeddedPayPal(config)) {
    // Persisted exactly when the embedded Stripe emulator is (see above for why).
    const persist = !deps.inMemory && config.databaseKind === 'pglite';
    if (!persist && !deps.inMemory) {
      deps.logger.warn(
        'the embedded PayPal emulator keeps its state in memory with PostgreSQL; to keep it across restarts run `payctl emulator paypal --data-dir DIR` and set PAYPAL_API_BASE',
      );
    }
    emulator = await startPayPalEmulator({
      port: 0,
      host: '127.0.0.1',
      clock: deps.clock,
      logger: deps.logger.child({ component: 'paypal-emulator' }),
      ...(persist ? { dataDir: path.join(config.DATA_DIR, 'emulators', 'paypal') } : {}),
    });
    apiBase = emulator.url;
    clientId ??= EMBEDDED_PAYPAL_CLIENT_ID;
    clientSecret ??= EMBEDDED_PAYPAL_CLIENT_SECRET;
    webhookId ??= EMBEDDED_PAYPAL_WEBHOOK_ID;
    certHosts.push(new URL(emulator.url).host);
  } else if (apiBase && LOOPBACK_HOSTS.has(new URL(apiBase).hostname)) {
    // An emulator on loopback serves its own signing certificate (over http).
    certHosts.push(new URL(apiBase).host);
  }
  const emulated =
    emulator !== undefined || (apiBase !== undefined && LOOPBACK_HOSTS.has(new URL(apiBase).hostname));
  if (!clientId || !clientSecret) return {};
  apiBase ??= live ? PAYPAL_LIVE_API_BASE : PAYPAL_SANDBOX_API_BASE;

  const provider = new PayPalProvider({
    clientId,
    clientSecret,
    apiBase,
    timeoutMs: config.PAYPAL_TIMEOUT_MS,
    livemode: live,
    webhookId,
    certHosts,
    // An emulator answers the ACDC read for the caller's own account whatever merchant id is named.
    merchantId: config.PAYPAL_MERCHANT_ID ?? (emulated ? EMULATOR_MERCHANT_ID : undefined),
    partnerId: config.PAYPAL_PARTNER_ID,
    clock: deps.clock,
  });
  const eligibility = await provider.checkCardEligibility(CARD_CHECK_TIMEOUT_MS);
  if (eligibility.enabled) {
    deps.logger.info({ provider: 'paypal' }, `PayPal card payments are on: ${eligibility.reason}`);
  } else {
    deps.logger.warn(
      { provider: 'paypal' },
      `PayPal card payments are off (cards will not be routed to PayPal): ${eligibility.reason}`,
    );
  }
  if (!webhookId) {
    deps.logger.warn('PAYPAL_WEBHOOK_ID is not set: inbound PayPal webhooks will be refused');
  }
  deps.health.register({
    name: 'paypal_api',
    critical: false,
    run: async () => {
      try {
        await provider.ping(HEALTH_TIMEOUT_MS);
        return { status: 'up', state: 'connected', detail: { embedded: emulator !== undefined } };
      } catch (error) {
        return { status: 'down', state: 'disconnected', error: (error as Error).message };
      }
    },
  });
  return { provider, ...(emulator ? { emulator } : {}), webhookId };
}
