// payctl ledger verify: recomputes every balance and checks every ledger invariant, in process against
// DATABASE_URL or over --url against a running service (the only way into an embedded one).
import type { Command } from 'commander';
import { type Globals, inProcess, remoteClient } from '../../cli/context.js';
import { printJson } from '../../cli/output.js';
import { formatVerifyReport, type VerifyReport, verifyLedger } from './ledger.verify.js';

export function registerLedgerCommands(program: Command, globals: () => Globals): void {
  const ledger = program.command('ledger').description('The double-entry ledger');
  ledger
    .command('verify')
    .description('Recompute every balance from its entries and check every invariant; exit 1 on a violation')
    .action(async () => {
      const options = globals();
      const report = options.url
        ? await remoteClient(options).request<VerifyReport>('GET', '/admin/ledger/verify')
        : await inProcess(options.config, (service) => verifyLedger(service.database.db));
      if (options.json) printJson(report);
      else process.stdout.write(formatVerifyReport(report));
      if (!report.ok) process.exitCode = 1;
    });
}
