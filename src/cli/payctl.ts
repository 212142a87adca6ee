// payctl: the operator's command line. `start` runs the service; the other commands act either in
// process against DATABASE_URL (or DATA_DIR when no service holds it) or over HTTP with --url/--token.
import { Command, Option } from 'commander';
import { ConfigError, loadConfig } from '../config.js';
import { registerEmulatorCommands } from '../emulators/emulator.commands.js';
import { AppError } from '../http/errors.js';
import type { Role } from '../main.js';
import { registerAuditCommands } from '../modules/audit/audit.commands.js';
import { registerLedgerCommands } from '../modules/ledger/ledger.commands.js';
import { registerPrivacyCommands } from '../modules/privacy/privacy.commands.js';
import { registerVaultCommands } from '../modules/vault/vault.commands.js';
import { registerVerificationCommands } from '../modules/verification/verification.commands.js';
import { registerAccessCommands } from './access.commands.js';
import { registerBackupCommands } from './backup.commands.js';
import { globalsOf, inProcess, UsageError } from './context.js';
import { ensureDashboardBuilt } from './dashboard-build.js';
import { registerFallbackCommands } from './fallback.commands.js';
import { registerFlagCommands } from './flags.commands.js';
import { registerHealthCommands } from './health.commands.js';
import { registerIpCommands } from './ip.commands.js';
import { registerKeyCommands } from './keys.commands.js';
import { registerMaintenanceCommands } from './maintenance.commands.js';
import { registerMonitorCommands } from './monitor.commands.js';
import { registerOperationsCommands } from './operations.commands.js';
import { registerOperatorCommands } from './operators.commands.js';
import { registerPaymentCommands } from './payments.commands.js';
import { registerProviderCommands } from './providers.commands.js';
import { registerReconcileCommands } from './reconcile.commands.js';
import { registerRefundCommands } from './refund.commands.js';
import { RemoteError, UnreachableError } from './remote.js';
import { registerReportCommands } from './reports.commands.js';
import { registerRollbackCommands } from './rollback.commands.js';
import { registerWebhookCommands } from './webhooks.commands.js';
import { registerInboundWebhookCommands } from './webhooks-inbound.commands.js';

const program = new Command('payctl')
  .description('Operate the payment service: start it, migrate, manage keys and operators')
  .option('--url <url>', 'reach a running service at this URL (default PAYCTL_URL)')
  .option('--token <token>', 'operator API token for --url (default PAYCTL_TOKEN)')
  .option('--json', 'print JSON for scripts instead of tables')
  // Usage mistakes print one line, like every other payctl error, not the help text.
  .configureOutput({ outputError: (text, write) => write(`payctl: ${text.replace(/^error: /, '')}`) });

const globals = () => globalsOf(program);

program
  .command('start')
  .description('Start the service (HTTP API and/or job workers)')
  .addOption(
    new Option('--role <role>', 'what this process runs').choices(['api', 'worker', 'all']).default('all'),
  )
  .action(async (options: { role: Role }) => {
    const config = loadConfig();
    // Only processes that serve HTTP need the dashboard's files.
    // A DASHBOARD_DIR of the operator's choosing is theirs to fill.
    if (options.role !== 'worker' && !config.DASHBOARD_DIR)
      ensureDashboardBuilt((line) => process.stderr.write(`${line}\n`));
    const { createService } = await import('../main.js');
    const service = await createService(config, { role: options.role });
    const { port } = await service.start();
    process.stdout.write(
      `payment service listening on http://${config.HOST}:${port} (${service.database.kind}, role ${options.role})\n`,
    );
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      service.logger.info({ signal }, 'shutting down: draining requests and jobs');
      const timer = setTimeout(() => {
        service.logger.error('shutdown took too long; exiting');
        process.exit(1);
      }, config.SHUTDOWN_TIMEOUT_MS + 5_000);
      timer.unref();
      await service.close();
      process.exit(0);
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
  });

program
  .command('migrate')
  .description('Apply pending database migrations (they also run at every start)')
  .action(async () => {
    const { config } = globals();
    await inProcess(config, async () => {});
    process.stdout.write('migrations are up to date\n');
  });

registerKeyCommands(program, globals);
registerOperatorCommands(program, globals);
registerAccessCommands(program, globals);
registerLedgerCommands(program, globals);
registerVaultCommands(program, globals);
registerAuditCommands(program, globals);
registerVerificationCommands(program, globals);
registerPrivacyCommands(program, globals);
registerInboundWebhookCommands(registerWebhookCommands(program, globals), globals);
registerFlagCommands(program, globals);
registerFallbackCommands(program, globals);
registerRollbackCommands(program, globals);
registerReportCommands(program, globals);
registerBackupCommands(program, globals);
registerOperationsCommands(program, globals);
registerMaintenanceCommands(program, globals);
registerReconcileCommands(program, globals);
registerHealthCommands(program, globals);
registerMonitorCommands(program, globals);
registerPaymentCommands(program, globals);
registerRefundCommands(program, globals);
registerProviderCommands(program, globals);
registerIpCommands(program, globals);
registerEmulatorCommands(program);

/** One line on stderr for anything the user can act on; a stack only with PAYCTL_DEBUG=1. */
function describe(error: unknown): string {
  if (error instanceof RemoteError) return `the service answered ${error.status}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    process.stderr.write(`payctl: ${describe(error)}\n`);
    const expected =
      error instanceof ConfigError ||
      (error as Error)?.name === 'DataDirLockedError' ||
      error instanceof UsageError ||
      error instanceof RemoteError ||
      error instanceof UnreachableError ||
      error instanceof AppError ||
      (error as Error)?.name === 'BackupError';
    if (!expected && process.env.PAYCTL_DEBUG === '1') process.stderr.write(`${(error as Error)?.stack}\n`);
    process.exit(error instanceof UsageError ? 64 : 1);
  }
}

await main();
