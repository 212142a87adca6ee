// The whole database as Kysely sees it: one line per table, each table typed in its module.
import type { IdempotencyKeysTable } from '../http/idempotency.table.js';
import type { JobSchedulesTable, JobsTable } from '../jobs/jobs.table.js';
import type { AuditChainHeadTable, AuditLogTable } from '../modules/audit/audit.table.js';
import type { CustomersTable } from '../modules/customers/customers.table.js';
import type { DisputesTable } from '../modules/disputes/disputes.table.js';
import type { EventsTable } from '../modules/events/events.table.js';
import type { FilesTable } from '../modules/files/files.table.js';
import type { FeatureFlagRolloutsTable, FeatureFlagsTable } from '../modules/flags/flags.table.js';
import type { FraudBlocklistTable, FraudChecksTable, FraudRulesTable } from '../modules/fraud/fraud.table.js';
import type { AuthFailuresTable, IpBlocksTable } from '../modules/ip-blocks/ip-blocks.table.js';
import type { ApiKeysTable } from '../modules/keys/keys.table.js';
import type {
  LedgerAccountsTable,
  LedgerAvailabilityTable,
  LedgerBalancesTable,
  LedgerEntriesTable,
  LedgerTransactionsTable,
} from '../modules/ledger/ledger.table.js';
import type { MerchantsTable } from '../modules/merchants/merchants.table.js';
import type { BackupsTable } from '../modules/operations/backups.table.js';
import type {
  OperatorSessionsTable,
  OperatorsTable,
  OperatorTokensTable,
} from '../modules/operators/operators.table.js';
import type { PaymentMethodsTable } from '../modules/payment-methods/payment-methods.table.js';
import type {
  ChargesTable,
  PaymentAttemptsTable,
  PaymentIntentsTable,
  RefundsTable,
} from '../modules/payments/payments.table.js';
import type {
  ProviderControlsTable,
  RuntimeSwitchesTable,
} from '../modules/provider-controls/provider-controls.table.js';
import type { ApiKeyRateLimitsTable } from '../modules/rate-limits/rate-limits.table.js';
import type {
  ReconciliationFindingsTable,
  ReconciliationRunsTable,
  ReconciliationSeenTable,
} from '../modules/reconciliation/reconciliation.table.js';
import type { ReviewsTable } from '../modules/reviews/reviews.table.js';
import type { RoutingRulesTable } from '../modules/routing/routing.table.js';
import type { VaultCardsTable, VaultCvcsTable, VaultKeysTable } from '../modules/vault/vault.table.js';
import type { WalletsTable } from '../modules/wallets/wallets.table.js';
import type {
  WebhookInboxTable,
  WebhookSubjectLocksTable,
} from '../modules/webhooks-in/webhook-inbox.table.js';
import type {
  WebhookDeliveriesTable,
  WebhookDeliveryAttemptsTable,
  WebhookEndpointsTable,
} from '../modules/webhooks-out/webhooks-out.table.js';
import type { ServiceSecretsTable } from './service-secrets.js';

export interface Database {
  merchants: MerchantsTable;
  api_keys: ApiKeysTable;
  api_key_rate_limits: ApiKeyRateLimitsTable;
  ip_blocks: IpBlocksTable;
  auth_failures: AuthFailuresTable;
  customers: CustomersTable;
  operators: OperatorsTable;
  operator_sessions: OperatorSessionsTable;
  operator_tokens: OperatorTokensTable;
  audit_log: AuditLogTable;
  audit_chain_head: AuditChainHeadTable;
  jobs: JobsTable;
  idempotency_keys: IdempotencyKeysTable;
  events: EventsTable;
  service_secrets: ServiceSecretsTable;
  job_schedules: JobSchedulesTable;
  ledger_accounts: LedgerAccountsTable;
  ledger_transactions: LedgerTransactionsTable;
  ledger_entries: LedgerEntriesTable;
  ledger_balances: LedgerBalancesTable;
  ledger_availability: LedgerAvailabilityTable;
  payment_methods: PaymentMethodsTable;
  vault_cards: VaultCardsTable;
  vault_cvcs: VaultCvcsTable;
  vault_keys: VaultKeysTable;
  payment_intents: PaymentIntentsTable;
  payment_attempts: PaymentAttemptsTable;
  charges: ChargesTable;
  refunds: RefundsTable;
  disputes: DisputesTable;
  files: FilesTable;
  reviews: ReviewsTable;
  fraud_rules: FraudRulesTable;
  fraud_blocklist: FraudBlocklistTable;
  fraud_checks: FraudChecksTable;
  reconciliation_runs: ReconciliationRunsTable;
  reconciliation_findings: ReconciliationFindingsTable;
  reconciliation_seen: ReconciliationSeenTable;
  provider_controls: ProviderControlsTable;
  runtime_switches: RuntimeSwitchesTable;
  routing_rules: RoutingRulesTable;
  feature_flags: FeatureFlagsTable;
  feature_flag_rollouts: FeatureFlagRolloutsTable;
  webhook_inbox: WebhookInboxTable;
  webhook_subject_locks: WebhookSubjectLocksTable;
  wallets: WalletsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_delivery_attempts: WebhookDeliveryAttemptsTable;
  backups: BackupsTable;
}
