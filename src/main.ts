// The composition root: config -> clock -> database -> modules -> HTTP server and job runner.
// Nothing else constructs infrastructure; the CLI and the tests build the service through here.

import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { z } from 'zod';
import { AdjustableClock, type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import { connectPglite, connectPostgres, type DatabaseHandle, type QueryObserver } from './db/connect.js';
import { isDatabaseUnavailable } from './db/errors.js';
import { migrateToLatest } from './db/migrate.js';
import { ensureServiceSecret } from './db/service-secrets.js';
import { buildHttpApp } from './http/app.js';
import { AppError } from './http/errors.js';
import {
  COMPLETE_ABANDONED_JOB,
  type Completers,
  idempotencyJobs,
  PURGE_KEYS_JOB,
} from './http/idempotency.jobs.js';
import { HASH_SECRET_NAME, IdempotencyService } from './http/idempotency.js';
import { JobRunner } from './jobs/runner.js';
import { registerAuditRoutes } from './modules/audit/audit.routes.js';
import { AuditService } from './modules/audit/audit.service.js';
import {
  AuditHeadPublisher,
  PUBLISH_HEAD_INTERVAL_SECONDS,
  PUBLISH_HEAD_JOB,
  publishHeadJob,
} from './modules/audit/audit-head.js';
import { registerCustomerRoutes } from './modules/customers/customers.routes.js';
import { CustomersService } from './modules/customers/customers.service.js';
import { registerDashboardRoutes } from './modules/dashboard/dashboard.routes.js';
import { DashboardService } from './modules/dashboard/dashboard.service.js';
import { PaymentTimelineService } from './modules/dashboard/payment-timeline.service.js';
import { registerRateGauges } from './modules/disputes/dispute-rates.js';
import { DisputeSettlement } from './modules/disputes/dispute-settlement.js';
import { registerDisputeRoutes } from './modules/disputes/disputes.routes.js';
import { DisputesService } from './modules/disputes/disputes.service.js';
import { disputeEventHandler } from './modules/disputes/disputes.webhooks.js';
import { registerOperatorDisputeRoutes } from './modules/disputes/operator-disputes.routes.js';
import { OperatorDisputes } from './modules/disputes/operator-disputes.service.js';
import { registerEventRoutes } from './modules/events/events.routes.js';
import { EventsService } from './modules/events/events.service.js';
import { registerFileRoutes } from './modules/files/files.routes.js';
import { FilesService } from './modules/files/files.service.js';
import { registerFlagRoutes } from './modules/flags/flags.routes.js';
import { FlagsService } from './modules/flags/flags.service.js';
import { FraudMetrics } from './modules/fraud/fraud.metrics.js';
import { registerFraudRoutes } from './modules/fraud/fraud.routes.js';
import { FraudService } from './modules/fraud/fraud.service.js';
import { registerIpBlockRoutes } from './modules/ip-blocks/ip-blocks.routes.js';
import { IpBlocksService } from './modules/ip-blocks/ip-blocks.service.js';
import { registerKeyRoutes } from './modules/keys/keys.routes.js';
import { KeysService } from './modules/keys/keys.service.js';
import { BalanceService } from './modules/ledger/balance.service.js';
import { RELEASE_INTERVAL_SECONDS, RELEASE_JOB, releaseAvailableJob } from './modules/ledger/ledger.jobs.js';
import { registerLedgerRoutes } from './modules/ledger/ledger.routes.js';
import { LedgerService } from './modules/ledger/ledger.service.js';
import { registerMerchantRoutes } from './modules/merchants/merchants.routes.js';
import { MerchantsService } from './modules/merchants/merchants.service.js';
import { IncidentService } from './modules/operations/incident.service.js';
import { registerOperationsRoutes } from './modules/operations/operations.routes.js';
import { PreflightService } from './modules/operations/preflight.service.js';
import { OperatorSecurity } from './modules/operators/operator-security.js';
import { registerOperatorSecurityRoutes } from './modules/operators/operator-security.routes.js';
import {
  DISABLE_INACTIVE_INTERVAL_SECONDS,
  DISABLE_INACTIVE_JOB,
  disableInactiveJob,
} from './modules/operators/operators.jobs.js';
import { registerOperatorRoutes } from './modules/operators/operators.routes.js';
import { OperatorsService } from './modules/operators/operators.service.js';
import { TOTP_SECRETS_KEY_NAME, TotpSecrets } from './modules/operators/totp.js';
import {
  MAINTAIN_PARTITIONS_INTERVAL_SECONDS,
  MAINTAIN_PARTITIONS_JOB,
  maintainPartitionsJob,
} from './modules/partitions/partitions.jobs.js';
import { registerPartitionRoutes } from './modules/partitions/partitions.routes.js';
import { PartitionsService } from './modules/partitions/partitions.service.js';
import { registerPaymentMethodRoutes } from './modules/payment-methods/payment-methods.routes.js';
import { PaymentMethodsService } from './modules/payment-methods/payment-methods.service.js';
import { registerAttemptRoutes } from './modules/payments/attempts.routes.js';
import { ChargesService } from './modules/payments/charges.service.js';
import { registerOperatorCaptureRoute } from './modules/payments/operator-capture.routes.js';
import { OperatorCapture } from './modules/payments/operator-capture.service.js';
import { registerOperatorPaymentRoutes } from './modules/payments/operator-payments.routes.js';
import { OperatorPaymentsService } from './modules/payments/operator-payments.service.js';
import { PaymentFlows } from './modules/payments/payment-flows.js';
import {
  SETTLE_ATTEMPTS_INTERVAL_SECONDS,
  SETTLE_ATTEMPTS_JOB,
  settleAttemptsJob,
} from './modules/payments/payments.jobs.js';
import { PaymentMetrics } from './modules/payments/payments.metrics.js';
import { registerPaymentIntentRoutes } from './modules/payments/payments.routes.js';
import { PaymentsService } from './modules/payments/payments.service.js';
import { paymentEventHandler } from './modules/payments/payments.webhooks.js';
import { PaymentRecovery } from './modules/payments/recovery.js';
import { registerReturnRoutes } from './modules/payments/return.routes.js';
import { PaymentSettlement } from './modules/payments/settlement.js';
import { registerStuckPaymentsGauge } from './modules/payments/stuck-payments.js';
import { registerPrivacyRoutes } from './modules/privacy/privacy.routes.js';
import { PrivacyService } from './modules/privacy/privacy.service.js';
import { ConnectivityTest } from './modules/provider-controls/connectivity-test.js';
import { registerConnectivityTestRoutes } from './modules/provider-controls/connectivity-test.routes.js';
import { registerProviderControlRoutes } from './modules/provider-controls/provider-controls.routes.js';
import { ProviderControlsService } from './modules/provider-controls/provider-controls.service.js';
import { registerRateLimitRoutes } from './modules/rate-limits/rate-limits.routes.js';
import { RateLimitsService } from './modules/rate-limits/rate-limits.service.js';
import {
  RECONCILE_PENDING_INTERVAL_SECONDS,
  RECONCILE_PENDING_JOB,
  reconcilePendingJob,
} from './modules/reconciliation/reconciliation.jobs.js';
import { registerReconciliationRoutes } from './modules/reconciliation/reconciliation.routes.js';
import { ReconciliationService } from './modules/reconciliation/reconciliation.service.js';
import { registerOperatorRefundRoutes } from './modules/refunds/operator-refunds.routes.js';
import { OperatorRefunds } from './modules/refunds/operator-refunds.service.js';
import { RefundSettlement } from './modules/refunds/refund-settlement.js';
import {
  SETTLE_REFUNDS_INTERVAL_SECONDS,
  SETTLE_REFUNDS_JOB,
  settleRefundsJob,
} from './modules/refunds/refunds.jobs.js';
import { RefundRecovery } from './modules/refunds/refunds.recovery.js';
import { registerRefundRoutes } from './modules/refunds/refunds.routes.js';
import { RefundsService } from './modules/refunds/refunds.service.js';
import { refundEventHandler } from './modules/refunds/refunds.webhooks.js';
import { registerReportRoutes } from './modules/reports/reports.routes.js';
import { ReportsService } from './modules/reports/reports.service.js';
import { registerReviewRoutes } from './modules/reviews/reviews.routes.js';
import { ReviewsService } from './modules/reviews/reviews.service.js';
import { registerRoutingRoutes } from './modules/routing/routing.routes.js';
import { RoutingService } from './modules/routing/routing.service.js';
import {
  PURGE_CVCS_INTERVAL_SECONDS,
  PURGE_CVCS_JOB,
  purgeExpiredCvcsJob,
} from './modules/vault/vault.jobs.js';
import { resolveKeysFile, VaultKeys } from './modules/vault/vault.keys.js';
import { registerVaultRoutes } from './modules/vault/vault.routes.js';
import { VaultService } from './modules/vault/vault.service.js';
import { registerVerificationRoutes } from './modules/verification/verification.routes.js';
import { payWalletTopUp } from './modules/wallets/wallet-topups.js';
import { registerWalletRoutes } from './modules/wallets/wallets.routes.js';
import { WalletsService } from './modules/wallets/wallets.service.js';
import { registerPayPalWebhookRoutes } from './modules/webhooks-in/paypal.routes.js';
import { registerStripeWebhookRoutes } from './modules/webhooks-in/stripe.routes.js';
import { INBOX_POOL, processInboxJob, purgeInboxJob } from './modules/webhooks-in/webhook-inbox.jobs.js';
import { InboxMetrics } from './modules/webhooks-in/webhook-inbox.metrics.js';
import { registerInboundWebhookRoutes } from './modules/webhooks-in/webhook-inbox.routes.js';
import {
  PURGE_INBOX_INTERVAL_SECONDS,
  PURGE_INBOX_JOB,
  WebhookInboxService,
} from './modules/webhooks-in/webhook-inbox.service.js';
import { WebhookDispatcher } from './modules/webhooks-in/webhooks-in.js';
import { deliverWebhookJob, WEBHOOK_POOL } from './modules/webhooks-out/deliveries.jobs.js';
import { outboxCounts } from './modules/webhooks-out/deliveries.repository.js';
import { WebhookDeliveries } from './modules/webhooks-out/deliveries.service.js';
import { ENDPOINT_SECRETS_KEY_NAME, EndpointSecrets } from './modules/webhooks-out/endpoint-secrets.js';
import { registerWebhookEndpointRoutes } from './modules/webhooks-out/webhook-endpoints.routes.js';
import { WebhookEndpointsService } from './modules/webhooks-out/webhook-endpoints.service.js';
import { registerWebhookAdminRoutes } from './modules/webhooks-out/webhooks-admin.routes.js';
import { WebhooksAdminService } from './modules/webhooks-out/webhooks-admin.service.js';
import { WebhookMetrics } from './modules/webhooks-out/webhooks-out.metrics.js';
import { HealthService } from './observability/health.js';
import { createLogger, type Logger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import { registerSystemRoutes } from './observability/system.routes.js';
import { Tracing } from './observability/tracing.js';
import { guardSettingsFrom, ProviderGateway } from './providers/gateway.js';
import {
  buildProviders,
  isLiveMode,
  type ProviderRegistry,
  validateProviderOptions,
} from './providers/registry.js';
import { WalletProvider } from './providers/wallet/wallet.provider.js';

export type Role = 'api' | 'worker' | 'all';

/** How stale a replica's copy of the IP blocks and per-key limits may be: changes reach every replica within it. */
const SECURITY_LISTS_REFRESH_MS = 2_000;

export interface ServiceOptions {
  role?: Role;
  logger?: Logger;
  /** Tests pass an in-memory PGlite by leaving DATA_DIR unset here. */
  inMemoryPglite?: boolean;
  /**
   * A PGlite data directory dump the in-memory database starts from (the test run's migrated template),
   * instead of PGlite's own initdb and every migration: seconds per test file on two cores.
   */
  pgliteTemplate?: Blob;
  /** Ensure the default merchant and admin (default true); payctl's one-shot commands skip it. */
  bootstrap?: boolean;
}

export async function openDatabase(
  config: Config,
  logger: Logger,
  inMemory: { template?: Blob | undefined } | false = false,
  onQuery?: QueryObserver,
): Promise<DatabaseHandle> {
  if (config.databaseKind === 'postgres') {
    return connectPostgres({
      url: config.DATABASE_URL as string,
      readReplicaUrl: config.READ_REPLICA_ENABLED ? config.READ_REPLICA_URL : undefined,
      poolSize: config.DB_POOL_SIZE,
      poolTimeoutMs: config.DB_POOL_TIMEOUT * 1000,
      logger,
      onQuery,
    });
  }
  return inMemory
    ? connectPglite(undefined, onQuery, inMemory.template)
    : connectPglite(config.DATA_DIR, onQuery);
}

export function buildClock(config: Config): Clock {
  return config.TEST_CLOCK ? new AdjustableClock() : systemClock;
}

function buildRedis(config: Config, logger: Logger): Redis | undefined {
  if (!config.REDIS_URL) return undefined;
  const redis = new Redis(config.REDIS_URL, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  // Redis holds caches and counters only; losing it is logged, never fatal.
  let lastLogged = 0;
  redis.on('error', (error) => {
    if (Date.now() - lastLogged > 10_000) {
      lastLogged = Date.now();
      logger.warn({ err: error }, 'redis unavailable');
    }
  });
  return redis;
}

async function redisUsedMemory(redis: Redis): Promise<number | undefined> {
  const info = await redis.info('memory');
  const match = /used_memory:(\d+)/.exec(info);
  return match ? Number(match[1]) : undefined;
}

export interface Service {
  config: Config;
  clock: Clock;
  logger: Logger;
  database: DatabaseHandle;
  redis: Redis | undefined;
  metrics: Metrics;
  runner: JobRunner;
  health: HealthService;
  providers: ProviderRegistry;
  /** Routing, guarded providers (breakers, back-pressure), the fallback switch: what payments call. */
  gateway: ProviderGateway;
  services: {
    keys: KeysService;
    merchants: MerchantsService;
    customers: CustomersService;
    events: EventsService;
    idempotency: IdempotencyService;
    ledger: LedgerService;
    balance: BalanceService;
    operators: OperatorsService;
    operatorSecurity: OperatorSecurity;
    audit: AuditService;
    vault: VaultService;
    paymentMethods: PaymentMethodsService;
    payments: PaymentsService;
    paymentFlows: PaymentFlows;
    paymentRecovery: PaymentRecovery;
    charges: ChargesService;
    refunds: RefundsService;
    refundRecovery: RefundRecovery;
    webhooks: WebhookDispatcher;
    webhookInbox: WebhookInboxService;
    providerControls: ProviderControlsService;
    routing: RoutingService;
    flags: FlagsService;
    reviews: ReviewsService;
    reports: ReportsService;
    wallets: WalletsService;
    webhookEndpoints: WebhookEndpointsService;
    webhookDeliveries: WebhookDeliveries;
    webhooksAdmin: WebhooksAdminService;
    privacy: PrivacyService;
    preflight: PreflightService;
    incidents: IncidentService;
    partitions: PartitionsService;
    reconciliation: ReconciliationService;
    operatorPayments: OperatorPaymentsService;
    operatorRefunds: OperatorRefunds;
    dashboard: DashboardService;
    connectivityTest: ConnectivityTest;
    ipBlocks: IpBlocksService;
    rateLimits: RateLimitsService;
  };
  http: Awaited<ReturnType<typeof buildHttpApp>>;
  /** Listens on PORT (0 picks a free port) and starts the job runner for worker roles. */
  start(): Promise<{ port: number; url: string }>;
  close(): Promise<void>;
}

export async function createService(config: Config, options: ServiceOptions = {}): Promise<Service> {
  const role = options.role ?? 'all';
  if (config.TEST_CLOCK && config.APP_ENV === 'production') {
    throw new Error('TEST_CLOCK=true is refused when APP_ENV=production');
  }
  // Before anything opens: live mode with a test key or the emulators must not start at all.
  validateProviderOptions(config);
  const logger = options.logger ?? createLogger({ level: config.LOG_LEVEL });
  const clock = buildClock(config);
  const metrics = new Metrics();
  // Read before the database opens: a bad keys file fails the start with nothing to clean up.
  const vaultKeys = new VaultKeys(resolveKeysFile(config, logger), logger);
  const tracing = await Tracing.create({
    endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
    sampleRatio: config.OTEL_TRACES_SAMPLER_ARG,
    fullSampling: config.ENHANCED_MONITORING,
  });
  const onQuery = tracing.enabled
    ? (sqlText: string, durationMs: number, error?: unknown) =>
        tracing.recordQuery(sqlText, durationMs, error)
    : undefined;
  const database = await openDatabase(
    config,
    logger,
    options.inMemoryPglite ? { template: options.pgliteTemplate } : false,
    onQuery,
  );
  try {
    const migrated = await migrateToLatest(database.db);
    if (migrated.applied.length > 0) logger.info({ applied: migrated.applied }, 'migrations applied');
  } catch (error) {
    await database.close();
    throw error;
  }
  const db = database.db;
  const redis = buildRedis(config, logger);

  // An in-memory database (tests) has no head worth keeping once the process ends: log and metric only.
  const auditHeadDir = config.AUDIT_HEAD_DIR ?? (options.inMemoryPglite ? undefined : config.DATA_DIR);
  const auditHeads = new AuditHeadPublisher(db, auditHeadDir, logger, metrics.registry);
  const audit = new AuditService(db, clock, auditHeads);
  const keys = new KeysService(db, clock, logger, (reason) => metrics.authFailures.inc({ reason }));
  const merchants = new MerchantsService(db, clock, keys);
  const events = new EventsService(db, clock);
  const customers = new CustomersService(db, clock, events);
  const vault = new VaultService(db, clock, vaultKeys, metrics.registry, logger);
  await vault.checkKeys().catch(async (error) => {
    await database.close();
    throw error;
  });
  const paymentMethods = new PaymentMethodsService(db, clock, events, vault, customers);
  const ledger = new LedgerService(db, clock, {
    balanceSlots: config.LEDGER_BALANCE_SLOTS,
    availabilityDelaySeconds: config.LEDGER_AVAILABILITY_DELAY_SECONDS,
  });
  const balance = new BalanceService(db);
  const wallets = new WalletsService(db, clock, events, ledger, customers);
  const operatorSecurity = new OperatorSecurity(
    db,
    clock,
    audit,
    new TotpSecrets(await ensureServiceSecret(db, clock, TOTP_SECRETS_KEY_NAME)),
  );
  const operators = new OperatorsService(db, clock, audit, operatorSecurity, (reason) =>
    metrics.authFailures.inc({ reason }),
  );
  const ipBlocks = new IpBlocksService({
    db,
    clock,
    audit,
    logger,
    registry: metrics.registry,
    settings: {
      failuresAllowed: config.AUTH_FAILURES_ALLOWED,
      windowMs: config.AUTH_FAILURE_WINDOW_SECONDS * 1000,
      blockMs: config.IP_BLOCK_SECONDS * 1000,
      refreshMs: SECURITY_LISTS_REFRESH_MS,
    },
  });
  const rateLimits = new RateLimitsService({
    db,
    clock,
    audit,
    logger,
    redis,
    registry: metrics.registry,
    settings: {
      perKeyPerSecond: config.RATE_LIMIT_PER_KEY_PER_SECOND,
      perShopperPerMinute: config.RATE_LIMIT_PER_SHOPPER_PER_MINUTE,
      refreshMs: SECURITY_LISTS_REFRESH_MS,
    },
  });
  await Promise.all([ipBlocks.load(), rateLimits.load()]);

  const runner = new JobRunner({
    db,
    clock,
    logger,
    metrics,
    pollIntervalMs: config.JOBS_POLL_INTERVAL_MS,
    concurrency: config.JOBS_CONCURRENCY,
    pools: { [WEBHOOK_POOL]: config.WEBHOOK_CONCURRENCY, [INBOX_POOL]: config.WEBHOOK_INBOX_CONCURRENCY },
  });
  runner.register(releaseAvailableJob(ledger));
  await runner.schedule(RELEASE_JOB, RELEASE_JOB, RELEASE_INTERVAL_SECONDS);
  runner.register(publishHeadJob(auditHeads));
  await runner.schedule(PUBLISH_HEAD_JOB, PUBLISH_HEAD_JOB, PUBLISH_HEAD_INTERVAL_SECONDS);
  runner.register(disableInactiveJob(operatorSecurity));
  await runner.schedule(DISABLE_INACTIVE_JOB, DISABLE_INACTIVE_JOB, DISABLE_INACTIVE_INTERVAL_SECONDS);
  runner.register(purgeExpiredCvcsJob(vault));
  await runner.schedule(PURGE_CVCS_JOB, PURGE_CVCS_JOB, PURGE_CVCS_INTERVAL_SECONDS);
  const idempotency = new IdempotencyService(
    db,
    clock,
    await ensureServiceSecret(db, clock, HASH_SECRET_NAME),
  );
  const completers: Completers = new Map();
  for (const job of idempotencyJobs(idempotency, completers)) runner.register(job);
  await runner.schedule(COMPLETE_ABANDONED_JOB, COMPLETE_ABANDONED_JOB, 30);
  await runner.schedule(PURGE_KEYS_JOB, PURGE_KEYS_JOB, 600);
  // Monthly partitions of the high-volume tables: this month and the next ones exist before anything
  // writes, then the job keeps them ahead and applies retention.
  const partitions = new PartitionsService({
    db,
    clock,
    audit,
    logger,
    aheadMonths: config.PARTITIONS_AHEAD_MONTHS,
    retentionDays: {
      events: config.EVENTS_RETENTION_DAYS,
      webhook_deliveries: config.WEBHOOK_DELIVERY_RETENTION_DAYS,
      webhook_inbox: config.WEBHOOK_INBOX_RETENTION_DAYS,
    },
  });
  await partitions.ensureAhead();
  runner.register(maintainPartitionsJob(partitions));
  await runner.schedule(
    MAINTAIN_PARTITIONS_JOB,
    MAINTAIN_PARTITIONS_JOB,
    MAINTAIN_PARTITIONS_INTERVAL_SECONDS,
  );

  const health = new HealthService();
  // The wallet provider's record is the ledger: it reads posting keys back for recovery.
  const walletProvider = new WalletProvider((key) => ledger.hasPosting(key));
  const providers = await buildProviders(config, {
    clock,
    logger,
    health,
    inMemory: options.inMemoryPglite,
    wallet: walletProvider,
  });
  const providerControls = new ProviderControlsService({
    db,
    clock,
    audit,
    logger,
    defaults: {
      circuit_breaker_enabled: config.CIRCUIT_BREAKER_ENABLED,
      fallback_provider_enabled: config.FALLBACK_PROVIDER_ENABLED,
    },
  });
  const routing = new RoutingService({ db, clock, audit, logger });
  // Runbook 002's payments_live_v1: the kill switch and per-environment rollout of new confirmations.
  const flags = new FlagsService({ db, clock, audit, logger, environment: config.APP_ENV });
  health.register({ name: 'feature_flag', critical: false, run: () => flags.healthCheck() });
  // Stripe's adapter bounds its own calls (STRIPE_TIMEOUT_MS), so it gets no second deadline here.
  const gateway = new ProviderGateway({
    providers,
    controls: providerControls,
    rules: routing,
    defaults: config.ROUTING_DEFAULTS,
    settings: guardSettingsFrom(config),
    registry: metrics.registry,
    clock,
  });
  health.register({ name: 'provider_circuits', critical: false, run: () => gateway.healthCheck() });
  // Filled in by start(): the service's own URL is known only once it listens (PORT=0 in tests).
  let listeningUrl = config.PUBLIC_URL ?? `http://127.0.0.1:${config.PORT}`;
  const paymentMetrics = new PaymentMetrics(metrics.registry);
  const payments = new PaymentsService(db, clock, events, customers);
  // Runbook 003's threat rules, screening each confirmation before any provider call.
  const fraud = new FraudService({ db, clock, audit, logger, metrics: new FraudMetrics(metrics.registry) });
  const reviews = new ReviewsService({ db, clock, events, audit });
  const settlement = new PaymentSettlement({
    db,
    clock,
    ledger,
    events,
    vault,
    metrics: paymentMetrics,
    logger,
    resolvePaymentMethod: (scope, id) => paymentMethods.resolvePaymentMethod(scope, id),
    walletTopUps: wallets,
    fraud,
    ruleReviews: reviews,
  });
  const paymentFlows = new PaymentFlows({
    db,
    clock,
    routing: gateway,
    paymentMethods,
    settlement,
    metrics: paymentMetrics,
    events,
    publicUrl: () => listeningUrl,
    wallets: {
      openWallet: (scope, customerId, currency) => wallets.openWallet(scope, customerId, currency),
      find: (scope, id) => wallets.find(scope, id),
    },
    admission: flags,
    fraud,
  });
  reviews.setHeldPayments({ release: (scope, id) => paymentFlows.releaseHeld(scope, id) });
  wallets.setTopUpPayer((scope, wallet, input, request) =>
    payWalletTopUp({ payments, flows: paymentFlows }, scope, wallet, input, request),
  );
  const paymentRecovery = new PaymentRecovery({
    db,
    clock,
    routing: gateway,
    paymentMethods,
    flows: paymentFlows,
    settlement,
    logger,
  });
  const charges = new ChargesService(db);
  const webhooks = new WebhookDispatcher();
  webhooks.register(paymentEventHandler(db, clock, paymentRecovery));
  runner.register(settleAttemptsJob(paymentRecovery));
  await runner.schedule(SETTLE_ATTEMPTS_JOB, SETTLE_ATTEMPTS_JOB, SETTLE_ATTEMPTS_INTERVAL_SECONDS);
  for (const endpoint of [
    'POST /v1/payment_intents',
    'POST /v1/payment_intents/:id/confirm',
    'POST /v1/payment_intents/:id/capture',
  ]) {
    completers.set(endpoint, (handle) => paymentRecovery.complete(handle));
  }
  const refundSettlement = new RefundSettlement({ db, clock, ledger, events, logger });
  const refunds = new RefundsService({
    db,
    clock,
    providers: { get: (name) => gateway.provider(name) },
    events,
    payments,
    settlement: refundSettlement,
  });
  const refundRecovery = new RefundRecovery({ db, clock, logger, refunds, settlement: refundSettlement });
  webhooks.register(refundEventHandler(db, refundSettlement, logger));
  const disputeSettlement = new DisputeSettlement({ db, clock, ledger, events, logger });
  webhooks.register(disputeEventHandler(db, disputeSettlement, paymentRecovery, providers));
  // Evidence and closing go to the provider itself, not through the payment circuits: they are rare and
  // must not be refused because card traffic tripped a breaker.
  const files = new FilesService(db, clock, config.publicUrl);
  const disputes = new DisputesService(db, clock, providers, disputeSettlement, files);
  registerRateGauges(metrics.registry, db, clock);
  registerStuckPaymentsGauge(metrics.registry, db, clock);
  // Reports tolerate replica lag: they read from READ_REPLICA_URL when it is enabled.
  const reports = new ReportsService(database.readDb);
  // Inbound webhooks are stored by the routes and processed by a job running the handlers above.
  const webhookInbox = new WebhookInboxService({
    db,
    clock,
    runner,
    dispatcher: webhooks,
    audit,
    logger,
    metrics: new InboxMetrics(metrics.registry, WebhookInboxService.counts(db)),
    maxAttempts: config.WEBHOOK_INBOX_MAX_ATTEMPTS,
  });
  runner.register(processInboxJob(webhookInbox, config.WEBHOOK_INBOX_MAX_ATTEMPTS));
  runner.register(purgeInboxJob(webhookInbox));
  await runner.schedule(PURGE_INBOX_JOB, PURGE_INBOX_JOB, PURGE_INBOX_INTERVAL_SECONDS);
  runner.register(settleRefundsJob(refundRecovery));
  await runner.schedule(SETTLE_REFUNDS_JOB, SETTLE_REFUNDS_JOB, SETTLE_REFUNDS_INTERVAL_SECONDS);
  completers.set('POST /v1/refunds', (handle) => refundRecovery.complete(handle));
  // Outbound webhooks: the outbox listener commits deliveries with their event; the deliver job runs
  // in its own pool (WEBHOOK_CONCURRENCY) beside the payment jobs.
  const endpointSecrets = new EndpointSecrets(
    await ensureServiceSecret(db, clock, ENDPOINT_SECRETS_KEY_NAME),
  );
  const webhookEndpoints = new WebhookEndpointsService({
    db,
    clock,
    secrets: endpointSecrets,
    allowPrivateUrls: config.ALLOW_PRIVATE_WEBHOOK_URLS,
  });
  const webhookDeliveries = new WebhookDeliveries({
    db,
    clock,
    logger,
    runner,
    events,
    secrets: endpointSecrets,
    metrics: new WebhookMetrics(metrics.registry, () => outboxCounts(db)),
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    allowPrivateUrls: config.ALLOW_PRIVATE_WEBHOOK_URLS,
  });
  events.onEvent(webhookDeliveries.onEvent, webhookDeliveries.onEventAlongside);
  runner.register(deliverWebhookJob(webhookDeliveries, config.WEBHOOK_TIMEOUT_MS));
  const webhooksAdmin = new WebhooksAdminService({
    db,
    clock,
    audit,
    events,
    deliveries: webhookDeliveries,
    replayBatchSize: config.WEBHOOK_REPLAY_BATCH_SIZE,
  });
  const privacy = new PrivacyService({ db, clock, audit, vault, events, wallets });
  const preflight = new PreflightService({
    db,
    databaseKind: database.kind,
    clock,
    config,
    stripeWebhookSecrets: providers.stripeWebhookSecrets,
  });
  const incidents = new IncidentService({ db, clock, circuits: () => gateway.circuitStates() });
  // Reconciliation reads the providers' listings directly (not through the payment circuits) and settles
  // through the payments module's recovery.
  const reconciliation = new ReconciliationService({
    db,
    clock,
    logger,
    audit,
    providers,
    recovery: paymentRecovery,
    payments,
    events,
    livemode: isLiveMode(config),
    paypalDelayMs: config.RECONCILIATION_PAYPAL_DELAY_SECONDS * 1000,
  });
  runner.register(reconcilePendingJob(reconciliation));
  await runner.schedule(RECONCILE_PENDING_JOB, RECONCILE_PENDING_JOB, RECONCILE_PENDING_INTERVAL_SECONDS);
  // Operator views and actions across merchants (payctl payments, payctl refund, payctl monitor).
  const operatorPayments = new OperatorPaymentsService(db, clock);
  const operatorRefunds = new OperatorRefunds({ refunds, payments: operatorPayments, audit });
  const dashboard = new DashboardService({ db, clock, flags, gateway });
  const connectivityTest = new ConnectivityTest({ providers, audit, clock, livemode: isLiveMode(config) });
  health.register({
    name: 'database',
    critical: true,
    run: async () => {
      const started = performance.now();
      await sql`select 1`.execute(db);
      const usage = database.poolUsage();
      return {
        status: 'up',
        state: 'connected',
        latency_ms: Math.round((performance.now() - started) * 100) / 100,
        detail: { kind: database.kind, pool: usage },
      };
    },
  });
  if (redis) {
    health.register({
      name: 'redis',
      critical: false,
      run: async () => {
        await redis.ping();
        return {
          status: 'up',
          state: 'connected',
          detail: { used_memory_bytes: await redisUsedMemory(redis) },
        };
      },
    });
  }
  health.register({
    name: 'job_runner',
    critical: false,
    run: async () => {
      if (!runner.isRunning)
        return { status: 'disabled', state: role === 'api' ? 'not_in_this_role' : 'stopped' };
      const depth = await runner.depth();
      const staleAfterMs = Math.max(config.JOBS_POLL_INTERVAL_MS * 10, 10_000);
      const lastPoll = runner.lastPollAt?.getTime();
      const fresh = lastPoll !== undefined && clock.now().getTime() - lastPoll < staleAfterMs;
      return {
        status: fresh ? 'up' : 'degraded',
        state: fresh ? 'running' : 'stalled',
        detail: { worker: runner.workerId, depth, last_poll_error: runner.lastPollError ?? null },
      };
    },
  });

  metrics.attach({
    poolUsage: () => database.poolUsage(),
    jobQueueDepth: () => runner.depth(),
    ...(redis ? { redisMemoryBytes: async () => redisUsedMemory(redis) } : {}),
  });

  const http = await buildHttpApp({
    logger,
    metrics,
    tracing,
    bodyLimit: config.BODY_LIMIT_BYTES,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
    trustedProxies: config.TRUSTED_PROXIES,
    clientGuard: ipBlocks,
    isDatabaseUnavailable,
    idempotency,
    dashboardDir: config.DASHBOARD_DIR,
    authenticators: {
      merchant: async (authorization) => {
        const principal = await keys.authenticate(authorization);
        await rateLimits.checkKey(principal.keyId);
        return principal;
      },
      operator: (authorization, cookie) => operators.authenticate(authorization, cookie),
      operatorDenied: (operator, permission, action, info) =>
        operators.recordDenied(operator, permission, action, {
          ip: info.ip,
          userAgent: info.userAgent,
          requestId: info.requestId,
        }),
    },
  });
  registerSystemRoutes(http.app, { health, metrics });
  registerCustomerRoutes(http.router, customers);
  registerPaymentMethodRoutes(http.app, http.router, paymentMethods);
  registerVaultRoutes(http.router, vault, audit);
  registerAuditRoutes(http.router, audit);
  registerVerificationRoutes(http.router, { db, audit, vault });
  http.expand.register('payment_method', 'customer', (scope, id) => customers.find(scope, id));
  registerPaymentIntentRoutes(http.router, {
    payments,
    paymentMethods,
    flows: paymentFlows,
    recovery: paymentRecovery,
    charges,
    limitShopper: (merchant, customer, shopperIp) => rateLimits.checkShopper(merchant, customer, shopperIp),
  });
  registerReturnRoutes(http.app, { db, recovery: paymentRecovery, logger });
  registerAttemptRoutes(http.router, db);
  registerRefundRoutes(http.router, refunds);
  registerDisputeRoutes(http.router, disputes);
  registerFileRoutes(http.router, files);
  registerOperatorDisputeRoutes(http.router, new OperatorDisputes({ db, clock, disputes, files, audit }));
  registerReviewRoutes(http.router, reviews);
  registerReportRoutes(http.router, reports);
  registerConnectivityTestRoutes(http.router, connectivityTest);
  registerOperatorPaymentRoutes(http.router, operatorPayments);
  registerOperatorRefundRoutes(http.router, operatorRefunds);
  registerOperatorCaptureRoute(
    http.router,
    new OperatorCapture({ flows: paymentFlows, payments: operatorPayments, audit }),
  );
  registerDashboardRoutes(http.router, {
    dashboard,
    timeline: new PaymentTimelineService({ db, clock, payments: operatorPayments }),
  });
  registerWalletRoutes(http.router, wallets);
  http.expand.register('refund', 'charge', (scope, id) => charges.find(scope, id));
  http.expand.register('refund', 'payment_intent', (scope, id) => payments.find(scope, id));
  http.expand.register('refund', 'balance_transaction', (scope, id) => balance.findTransaction(scope, id));
  http.expand.register('refund', 'failure_balance_transaction', (scope, id) =>
    balance.findTransaction(scope, id),
  );
  registerStripeWebhookRoutes(http.app, {
    providers,
    inbox: webhookInbox,
    logger,
    registry: metrics.registry,
  });
  registerPayPalWebhookRoutes(http.app, {
    providers,
    inbox: webhookInbox,
    logger,
    registry: metrics.registry,
  });
  registerInboundWebhookRoutes(http.router, webhookInbox);
  http.expand.register('payment_intent', 'latest_charge', (scope, id) => charges.find(scope, id));
  http.expand.register('payment_intent', 'customer', (scope, id) => customers.find(scope, id));
  http.expand.register('payment_intent', 'payment_method', (scope, id) => paymentMethods.find(scope, id));
  http.expand.register('charge', 'balance_transaction', (scope, id) => balance.findTransaction(scope, id));
  http.expand.register('charge', 'customer', (scope, id) => customers.find(scope, id));
  http.expand.register('charge', 'payment_intent', (scope, id) => payments.find(scope, id));
  http.expand.register('charge', 'payment_method', (scope, id) => paymentMethods.find(scope, id));
  registerEventRoutes(http.router, events);
  registerLedgerRoutes(http.router, { balance, audit, db });
  registerOperatorRoutes(http.router, operators, audit, config.publicUrl.startsWith('https:'));
  registerOperatorSecurityRoutes(http.router, operatorSecurity);
  registerKeyRoutes(http.router, { keys, merchants, audit, clock });
  registerMerchantRoutes(http.router, merchants, audit);
  registerProviderControlRoutes(http.router, { controls: providerControls, gateway });
  registerRoutingRoutes(http.router, { routing, gateway });
  registerFlagRoutes(http.router, flags);
  registerFraudRoutes(http.router, fraud);
  registerWebhookEndpointRoutes(http.router, webhookEndpoints);
  registerWebhookAdminRoutes(http.router, webhooksAdmin);
  registerPrivacyRoutes(http.router, privacy);
  registerOperationsRoutes(http.router, { preflight, incidents });
  registerPartitionRoutes(http.router, partitions);
  registerReconciliationRoutes(http.router, reconciliation);
  registerIpBlockRoutes(http.router, ipBlocks);
  registerRateLimitRoutes(http.router, rateLimits);
  if (config.TEST_CLOCK && clock instanceof AdjustableClock) registerTestClock(http.router, clock);

  const bootstrap =
    options.bootstrap === false ? undefined : await merchants.bootstrap(config.BOOTSTRAP_SECRET_KEY);
  if (bootstrap && bootstrap.createdKeys.length > 0)
    printCreatedKeys(bootstrap.merchantId, bootstrap.createdKeys);
  if (options.bootstrap !== false && config.BOOTSTRAP_ADMIN_EMAIL && config.BOOTSTRAP_ADMIN_PASSWORD) {
    await operators.bootstrapAdmin(config.BOOTSTRAP_ADMIN_EMAIL, config.BOOTSTRAP_ADMIN_PASSWORD);
  }

  let closing: Promise<void> | undefined;
  const service: Service = {
    config,
    clock,
    logger,
    database,
    redis,
    metrics,
    runner,
    health,
    providers,
    gateway,
    services: {
      keys,
      merchants,
      customers,
      events,
      idempotency,
      operators,
      operatorSecurity,
      audit,
      ledger,
      balance,
      vault,
      paymentMethods,
      payments,
      paymentFlows,
      paymentRecovery,
      charges,
      refunds,
      refundRecovery,
      webhooks,
      webhookInbox,
      providerControls,
      routing,
      flags,
      reviews,
      reports,
      wallets,
      webhookEndpoints,
      webhookDeliveries,
      webhooksAdmin,
      privacy,
      preflight,
      incidents,
      partitions,
      reconciliation,
      operatorPayments,
      operatorRefunds,
      dashboard,
      connectivityTest,
      ipBlocks,
      rateLimits,
    },
    http,
    async start() {
      await http.app.listen({ port: config.PORT, host: config.HOST });
      const address = http.app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.PORT;
      if (role !== 'api') runner.start();
      listeningUrl = config.PUBLIC_URL ?? `http://127.0.0.1:${port}`;
      providers.listening(listeningUrl);
      logger.info({ port, role, database: database.kind }, 'payment service ready');
      return { port, url: `http://127.0.0.1:${port}` };
    },
    close() {
      closing ??= (async () => {
        health.draining = true;
        await http.app.close();
        await providers.close();
        await runner.stop(config.SHUTDOWN_TIMEOUT_MS);
        await reconciliation.drain();
        await tracing.shutdown().catch(() => {});
        redis?.disconnect();
        await database.close();
      })();
      return closing;
    },
  };
  return service;
}

function printCreatedKeys(merchantId: string, keys: { kind: string; secret: string }[]): void {
  // Printed once, to the console rather than the log stream, so the secret is not shipped with the logs.
  const lines = [
    '',
    '  First start: created a merchant and its test-mode keys. They are shown this once.',
    `  merchant:         ${merchantId}`,
    ...keys.map((key) => `  ${`${key.kind} key:`.padEnd(18)}${key.secret}`),
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function registerTestClock(router: Service['http']['router'], clock: AdjustableClock): void {
  router.public({
    method: 'POST',
    url: '/_test/clock',
    summary: 'Move the service clock forward (TEST_CLOCK=true only)',
    tags: ['Testing'],
    input: {
      advance_seconds: z.union([z.number(), z.string()]).transform(Number).optional(),
      to: z.union([z.number(), z.string()]).transform(Number).optional(),
    },
    handler: async ({ input }) => {
      try {
        if (input.to !== undefined) clock.set(new Date(input.to * 1000));
        else if (input.advance_seconds !== undefined) clock.advance(input.advance_seconds * 1000);
      } catch (error) {
        throw new AppError(400, 'invalid_request_error', 'clock_invalid', (error as Error).message, {
          param: input.to !== undefined ? 'to' : 'advance_seconds',
        });
      }
      const now = clock.now();
      return { object: 'test_clock', now: Math.floor(now.getTime() / 1000), iso: now.toISOString() };
    },
  });
}
