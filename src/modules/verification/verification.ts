// `payctl verify` / GET /admin/verify: runbook 003's verify-data-integrity in one call. Runs the ledger
// check (ledger.verify.ts), the audit hash chain (audit-chain.verify.ts) and the vault check
// (vault.maintenance.ts) one after the other; a check that throws counts as failed with its error, so
// one broken part never hides the others' results.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { summariseAuditChain } from '../audit/audit.report.js';
import type { AuditService } from '../audit/audit.service.js';
import type { AuditChainReport } from '../audit/audit-chain.verify.js';
import { type VerifyReport as LedgerReport, verifyLedger } from '../ledger/ledger.verify.js';
import type { VerifyReport as VaultReport } from '../vault/vault.maintenance.js';
import type { VaultService } from '../vault/vault.service.js';

export type CheckName = 'ledger' | 'audit_chain' | 'vault';

export interface IntegrityCheck {
  name: CheckName;
  ok: boolean;
  summary: string;
  /** The check's own report (as `payctl ledger|audit|vault verify --json` prints it), or null if it threw. */
  report: LedgerReport | AuditChainReport | VaultReport | null;
  error?: string;
}

export interface IntegrityReport {
  object: 'integrity_verification';
  ok: boolean;
  checks: IntegrityCheck[];
}

export interface VerificationDeps {
  db: Kysely<Database>;
  audit: AuditService;
  vault: VaultService;
}

export async function verifyIntegrity({ db, audit, vault }: VerificationDeps): Promise<IntegrityReport> {
  const checks = [
    await run('ledger', () => verifyLedger(db), summariseLedger),
    await run('audit_chain', () => audit.verify(), summariseAuditChain),
    await run('vault', () => vault.verify(), summariseVault),
  ];
  return { object: 'integrity_verification', ok: checks.every((c) => c.ok), checks };
}

async function run<R extends NonNullable<IntegrityCheck['report']>>(
  name: CheckName,
  check: () => Promise<R>,
  summarise: (report: R) => string,
): Promise<IntegrityCheck> {
  try {
    const report = await check();
    return { name, ok: report.ok, summary: summarise(report), report };
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    return { name, ok: false, summary: `could not run: ${message}`, report: null, error: message };
  }
}

function summariseLedger(report: LedgerReport): string {
  const failed = report.checks.filter((c) => c.violations > 0);
  return failed.length === 0
    ? `${report.transactions} transactions, ${report.entries} entries, ${report.checks.length} checks pass`
    : `violations: ${failed.map((c) => `${c.name} (${c.violations})`).join(', ')}`;
}

function summariseVault(report: VaultReport): string {
  const line = `${report.cards.total} cards, ${report.cvcs.total} cvcs`;
  return report.ok
    ? `${line}, all decrypt and match`
    : `${line}; ${report.cards.failed + report.cvcs.failed} failed, first: ${report.failures[0]?.payment_method_id ?? '?'} ${report.failures[0]?.reason ?? ''}`;
}

/** Rows for the summary table. */
export function summaryRows(report: IntegrityReport) {
  return report.checks.map((c) => ({ check: c.name, result: c.ok ? 'ok' : 'FAILED', summary: c.summary }));
}
