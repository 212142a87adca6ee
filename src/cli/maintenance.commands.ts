// payctl maintenance (runbook 003's weekly and database maintenance): the monthly partitions of the
// high-volume tables, and `purge-webhook-logs --older-than 30d`, which drops the webhook log months
// past the age through the partitions service (no SQL here). In process the audit row names the CLI
// user; over --url the service audits the token's operator.
import type { Command } from 'commander';
import type { PartitionInfo, PurgeResult } from '../modules/partitions/partitions.js';
import { olderThanSchema } from '../modules/partitions/partitions.js';
import { type Globals, inProcess, parseOption, remoteClient } from './context.js';
import { printJson, printTable } from './output.js';

const cliActor = () => ({ type: 'cli' as const, id: process.env.USER ?? null });

export function registerMaintenanceCommands(program: Command, globals: () => Globals): void {
  const maintenance = program.command('maintenance').description('Runbook 003 data maintenance');
  maintenance
    .command('partitions')
    .description('List the monthly partitions of events, webhook deliveries and attempts, and the inbox')
    .action(async () => {
      const g = globals();
      const list = g.url
        ? await remoteClient(g).request<{ data: PartitionInfo[] }>('GET', '/admin/maintenance/partitions')
        : await inProcess(g.config, ({ services }) => services.partitions.list());
      if (g.json) printJson(list);
      else
        printTable(list.data as unknown as Record<string, unknown>[], [
          'table',
          'partition',
          'from',
          'to',
          'approx_rows',
        ]);
    });
  maintenance
    .command('purge-webhook-logs')
    .description(
      'Drop the months of webhook deliveries, attempts and inbound events older than --older-than (whole months; months with deliveries or events still in progress are kept)',
    )
    .requiredOption('--older-than <days>', 'age in days: 30d or 30 (1 to 3650)')
    .action(async (options: { olderThan: string }) => {
      const g = globals();
      const days = parseOption(olderThanSchema, options.olderThan, '--older-than');
      const result = g.url
        ? await remoteClient(g).request<PurgeResult>('POST', '/admin/maintenance/purge-webhook-logs', {
            older_than: days,
          })
        : await inProcess(g.config, ({ services }) => services.partitions.purgeWebhookLogs(days, cliActor()));
      if (g.json) {
        printJson(result);
        return;
      }
      console.log(`Webhook logs before ${result.cutoff} (older than ${result.older_than_days} days):`);
      if (result.results.length === 0) console.log('nothing to purge.');
      else
        printTable(result.results as unknown as Record<string, unknown>[], [
          'table',
          'partition',
          'action',
          'rows',
        ]);
    });
}
