// payctl backup and payctl restore --verify (runbook 003's backup strategy, runbook 002's "database
// backups tested and verified"). Both are local: they run where the database's files or pg_dump can reach,
// never over --url. On PGlite, `backup` needs DATA_DIR free: PGlite is one process, and a running service
// holds the lock (stop it, back up, start it again; or use PostgreSQL for online backups).
import type { Command } from 'commander';
import type { BackupObject } from '../modules/operations/backup.service.js';
import { BackupService } from '../modules/operations/backup.service.js';
import { BackupError } from '../modules/operations/pg-tools.js';
import { type BackupVerification, verifyBackup } from '../modules/operations/restore-verify.js';
import { type Globals, inProcess, UsageError } from './context.js';
import { printJson, printTable } from './output.js';

function refuseRemote(program: Command, command: string): void {
  if (program.opts<{ url?: string }>().url === undefined) return;
  throw new UsageError(
    `${command} is local only: run it on a host that reaches the database (DATABASE_URL, or DATA_DIR with the service stopped), without --url`,
  );
}

async function backupLocally(g: Globals, out: string | undefined): Promise<BackupObject> {
  try {
    return await inProcess(g.config, (service) =>
      new BackupService({
        database: service.database,
        databaseUrl: g.config.DATABASE_URL,
        clock: service.clock,
      }).backup(out, process.env.USER ?? null),
    );
  } catch (error) {
    if ((error as Error)?.name !== 'DataDirLockedError') throw error;
    throw new BackupError(
      `DATA_DIR ${g.config.DATA_DIR} is locked by a running service. PGlite is a single-process database: ` +
        'no other process may open or copy its files while it runs. Stop the service, run payctl backup, ' +
        'start it again; or run on PostgreSQL (DATABASE_URL) for backups while it runs (pg_dump)',
    );
  }
}

function printVerification(g: Globals, verification: BackupVerification): void {
  if (g.json) {
    printJson(verification);
    return;
  }
  console.log(
    `${verification.file} (${verification.format}, ${verification.size_bytes} bytes, sha256 ${verification.sha256})`,
  );
  console.log(`restored into ${verification.scratch} (dropped)`);
  printTable(
    verification.checks.map((check) => ({ ...check, status: check.status.toUpperCase() })),
    ['name', 'status', 'detail'],
  );
  console.log('');
  printTable(
    Object.entries(verification.row_counts).map(([table, rows]) => ({ table, rows })),
    ['table', 'rows'],
  );
  console.log(verification.ok ? 'backup verified' : 'backup verification FAILED');
}

export function registerBackupCommands(program: Command, globals: () => Globals): void {
  program
    .command('backup')
    .description(
      'Back up the database (pg_dump custom format, or PGlite dump of DATA_DIR) and record it; local only',
    )
    .option('--out <file|dir>', 'where to write it (a directory gets payment_db_<date>_<time>.dump|.tar.gz)')
    .action(async (options: { out?: string }) => {
      refuseRemote(program, 'payctl backup');
      const g = globals();
      const backup = await backupLocally(g, options.out);
      if (g.json) printJson(backup);
      else {
        console.log(`backup ${backup.id} written`);
        printTable([{ ...backup }], ['file', 'format', 'size_bytes', 'sha256']);
      }
    });
  program
    .command('restore')
    .description(
      'Restore a backup into a scratch database or directory, check migrations, ledger and row counts, drop it',
    )
    .argument('<backup>', 'a file written by payctl backup (or pg_dump --format=custom)')
    .option(
      '--verify',
      'restore into a scratch copy and check it (the only mode: the live database is never touched)',
    )
    .action(async (file: string, options: { verify?: boolean }) => {
      refuseRemote(program, 'payctl restore');
      if (!options.verify) {
        throw new UsageError(
          'restore needs --verify: payctl restores only into a scratch copy; to replace the live database follow docs/runbook.md (Data Corruption 3)',
        );
      }
      const g = globals();
      const verification = await verifyBackup(file, g.config.DATABASE_URL);
      printVerification(g, verification);
      if (!verification.ok) process.exitCode = 1;
    });
}
