// The audit chain verification for people (payctl prints this; --json prints the report itself).
import type { AuditChainReport } from './audit-chain.verify.js';

export function formatAuditChainReport(report: AuditChainReport): string {
  const lines = [
    `audit chain: ${report.rows} rows, head seq ${report.head.seq} ${report.head.hash.slice(0, 16)}…`,
    report.published.source
      ? `published heads: ${report.published.checked} in ${report.published.source}` +
        (report.published.latest
          ? ` (latest seq ${report.published.latest.seq} at ${report.published.latest.published_at})`
          : '')
      : 'published heads: none configured (AUDIT_HEAD_DIR); chain checked on its own',
  ];
  for (const problem of report.problems) lines.push(`  FAIL ${problem.kind}: ${problem.message}`);
  if (report.problem_count > report.problems.length)
    lines.push(`  ... and ${report.problem_count - report.problems.length} more`);
  lines.push(report.ok ? 'audit chain verified: intact' : 'audit chain verification FAILED');
  return `${lines.join('\n')}\n`;
}

/** One line for the summary table of `payctl verify`. */
export function summariseAuditChain(report: AuditChainReport): string {
  return report.ok
    ? `${report.rows} rows chained, ${report.published.checked} published heads match`
    : `${report.problem_count} problems, first: ${report.problems[0]?.message ?? '?'}`;
}
