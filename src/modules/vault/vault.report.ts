// Human-readable forms of the rotation and verification reports (payctl prints these; --json the raw).
import type { RotationReport, VerifyReport } from './vault.maintenance.js';

const failureLines = (failures: { table: string; payment_method_id: string; reason: string }[]) =>
  failures.map((f) => `  FAILED ${f.table} ${f.payment_method_id}: ${f.reason}\n`).join('');

export function formatRotationReport(report: RotationReport): string {
  return (
    `vault rotate: current key ${report.current_kek}\n` +
    `  cards: ${report.cards.rotated} re-wrapped, ${report.cards.failed} failed\n` +
    `  cvcs:  ${report.cvcs.rotated} re-wrapped, ${report.cvcs.failed} failed\n` +
    failureLines(report.failures) +
    (report.ok
      ? 'every entry is under the current key\n'
      : 'some entries could not be re-wrapped; see above\n')
  );
}

export function formatVerifyReport(report: VerifyReport): string {
  const byKek = Object.entries(report.by_kek)
    .map(([id, count]) => `${id}=${count}`)
    .join(' ');
  return (
    `vault verify: ${report.ok ? 'OK' : 'FAILED'}\n` +
    `  cards: ${report.cards.total} total, ${report.cards.ok} ok, ${report.cards.failed} failed\n` +
    `  cvcs:  ${report.cvcs.total} total, ${report.cvcs.ok} ok, ${report.cvcs.failed} failed\n` +
    `  entries by key: ${byKek || '(none)'}\n` +
    failureLines(report.failures)
  );
}
