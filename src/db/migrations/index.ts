// Forward-only, versioned migrations in the order they apply. Never edit one that has shipped.
import type { Migration } from 'kysely';
import * as m0001 from './0001_merchants_keys_customers.js';
import * as m0002 from './0002_operators_audit.js';
import * as m0003 from './0003_jobs.js';
import * as m0004 from './0004_ledger.js';
import * as m0005 from './0005_idempotency.js';
import * as m0006 from './0006_events.js';
import * as m0007 from './0007_payment_methods_vault.js';
import * as m0008 from './0008_audit_no_truncate.js';
import * as m0009 from './0009_service_secrets.js';
import * as m0010 from './0010_payments.js';
import * as m0011 from './0011_refunds_disputes.js';
import * as m0012 from './0012_routing_controls.js';
import * as m0013 from './0013_paypal_payment_methods.js';
import * as m0014 from './0014_webhooks_out.js';
import * as m0015 from './0015_webhook_inbox.js';
import * as m0016 from './0016_wallets.js';
import * as m0017 from './0017_disputes_api.js';
import * as m0018 from './0018_jobs_claim_index.js';
import * as m0019 from './0019_feature_flags.js';
import * as m0020 from './0020_privacy.js';
import * as m0021 from './0021_reviews.js';
import * as m0022 from './0022_reconciliation.js';
import * as m0023 from './0023_partitions.js';
import * as m0024 from './0024_operator_security.js';
import * as m0025 from './0025_security_limits.js';
import * as m0026 from './0026_audit_chain.js';
import * as m0028 from './0028_backups.js';
import * as m0029 from './0029_fraud_rules.js';
import * as m0030 from './0030_payment_timeline.js';
import * as m0031 from './0031_reconciliation_seen_unlogged.js';
import * as m0032 from './0032_files.js';

export const migrations: Record<string, Migration> = {
  '0001_merchants_keys_customers': m0001,
  '0002_operators_audit': m0002,
  '0003_jobs': m0003,
  '0004_ledger': m0004,
  '0005_idempotency': m0005,
  '0006_events': m0006,
  '0007_payment_methods_vault': m0007,
  '0008_audit_no_truncate': m0008,
  '0009_service_secrets': m0009,
  '0010_payments': m0010,
  '0011_refunds_disputes': m0011,
  '0012_routing_controls': m0012,
  '0013_paypal_payment_methods': m0013,
  '0014_webhooks_out': m0014,
  '0015_webhook_inbox': m0015,
  '0016_wallets': m0016,
  '0017_disputes_api': m0017,
  '0018_jobs_claim_index': m0018,
  '0019_feature_flags': m0019,
  '0020_privacy': m0020,
  '0021_reviews': m0021,
  '0029_fraud_rules': m0029,
  '0031_reconciliation_seen_unlogged': m0031,
  '0032_files': m0032,
  '0026_audit_chain': m0026,
  '0028_backups': m0028,
  '0030_payment_timeline': m0030,
  '0024_operator_security': m0024,
  '0023_partitions': m0023,
  '0022_reconciliation': m0022,
  '0025_security_limits': m0025,
};
