// payctl vault rotate | verify: in process against the configured database and keys file, or over
// --url against a running service (the only way into an embedded one). Exit 1 when anything failed.
import type { Command } from 'commander';
import { z } from 'zod';
import { type Globals, inProcess, parseOption, remoteClient } from '../../cli/context.js';
import { printJson } from '../../cli/output.js';
import type { RotationReport, VerifyReport } from './vault.maintenance.js';
import { formatRotationReport, formatVerifyReport } from './vault.report.js';

const batchSize = z.coerce.number().int().min(1).max(10_000);

export function registerVaultCommands(program: Command, globals: () => Globals): void {
  const vault = program.command('vault').description('The card vault: key rotation and verification');
  vault
    .command('rotate')
    .description('Re-wrap every data key under the current (first) key of VAULT_KEYS_FILE; safe to re-run')
    .option('--batch-size <n>', 'entries per committed batch', '500')
    .action(async (options: { batchSize: string }) => {
      const g = globals();
      const size = parseOption(batchSize, options.batchSize, '--batch-size');
      const report = g.url
        ? await remoteClient(g).request<RotationReport>('POST', '/admin/vault/rotate', { batch_size: size })
        : await inProcess(g.config, async (service) => {
            const result = await service.services.vault.rotate({
              batchSize: size,
              onBatch: ({ table, rotated }) => {
                if (!g.json) process.stdout.write(`  ${table}: batch of ${rotated} committed\n`);
              },
            });
            await service.services.audit.record({
              actor: { type: 'cli', id: null },
              action: 'vault.rotate',
              outcome: result.ok ? 'success' : 'failure',
              newValue: { current_kek: result.current_kek, cards: result.cards, cvcs: result.cvcs },
            });
            return result;
          });
      if (g.json) printJson(report);
      else process.stdout.write(formatRotationReport(report));
      if (!report.ok) process.exitCode = 1;
    });
  vault
    .command('verify')
    .description('Decrypt every vault entry and check it against its payment method; exit 1 on any failure')
    .action(async () => {
      const g = globals();
      const report = g.url
        ? await remoteClient(g).request<VerifyReport>('GET', '/admin/vault/verify')
        : await inProcess(g.config, (service) => service.services.vault.verify());
      if (g.json) printJson(report);
      else process.stdout.write(formatVerifyReport(report));
      if (!report.ok) process.exitCode = 1;
    });
}
