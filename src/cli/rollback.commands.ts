// payctl rollback mark-for-review (runbook 002's database rollback): opens a `system_rollback` review on
// each succeeded payment of the window, through the reviews service (no SQL here); no money moves. In
// process the audit row names the CLI user; over --url the service audits the token's operator.
import type { Command } from 'commander';
import type { RollbackMarking } from '../modules/reviews/reviews.js';
import { sinceSchema } from '../modules/reviews/reviews.js';
import { type Globals, inProcess, parseOption, remoteClient } from './context.js';
import { printJson, printTable } from './output.js';

const cliActor = () => ({ type: 'cli' as const, id: process.env.USER ?? null });

function printMarking(g: Globals, marking: RollbackMarking): void {
  if (g.json) {
    printJson(marking);
    return;
  }
  console.log(`Opened ${marking.opened} review(s) (reason system_rollback, window ${marking.since} s).`);
  if (marking.reviews.length > 0) {
    printTable(marking.reviews, ['id', 'charge', 'payment_intent', 'merchant', 'livemode']);
  }
}

export function registerRollbackCommands(program: Command, globals: () => Globals): void {
  const rollback = program.command('rollback').description('Runbook 002 rollback procedures');
  rollback
    .command('mark-for-review')
    .description(
      'Open a review (reason system_rollback) on every succeeded payment created within --since; reruns open none',
    )
    .requiredOption('--since <duration>', 'how far back: 3600, 90s, 30m, 1h, 2d (at most 31d)')
    .action(async (options: { since: string }) => {
      const g = globals();
      const since = parseOption(sinceSchema, options.since, '--since');
      const marking = g.url
        ? await remoteClient(g).request<RollbackMarking>('POST', '/admin/rollback/mark-for-review', { since })
        : await inProcess(g.config, ({ services }) => services.reviews.markForRollback(since, cliActor()));
      printMarking(g, marking);
    });
}
