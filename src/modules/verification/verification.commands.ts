// payctl verify: ledger, audit chain and vault in one command (runbook 003's verify-data-integrity.sh),
// a summary table for people, --json for scripts, exit 1 if any check fails.
import type { Command } from 'commander';
import { type Globals, inProcess, remoteClient } from '../../cli/context.js';
import { printJson, printTable } from '../../cli/output.js';
import { type IntegrityReport, summaryRows, verifyIntegrity } from './verification.js';

export function registerVerificationCommands(program: Command, globals: () => Globals): void {
  program
    .command('verify')
    .description('Verify the ledger, the audit hash chain and the vault; exit 1 if any check fails')
    .action(async () => {
      const g = globals();
      const report = g.url
        ? await remoteClient(g).request<IntegrityReport>('GET', '/admin/verify')
        : await inProcess(g.config, (service) =>
            verifyIntegrity({
              db: service.database.db,
              audit: service.services.audit,
              vault: service.services.vault,
            }),
          );
      if (g.json) printJson(report);
      else {
        printTable(summaryRows(report), ['check', 'result', 'summary']);
        process.stdout.write(report.ok ? 'all checks passed\n' : 'verification FAILED\n');
      }
      if (!report.ok) process.exitCode = 1;
    });
}
