// payctl customer export | erase: runbook 003's GDPR endpoints from the command line, in process against
// the configured database (audited with the CLI user as actor) or over --url/--token (audited as the
// token's operator). Erasure cannot be undone, so it refuses to run without --yes.
import type { Command } from 'commander';
import { z } from 'zod';
import { type Globals, inProcess, parseOption, remoteClient, UsageError } from '../../cli/context.js';
import { printJson, printTable } from '../../cli/output.js';
import { MAX_EXPORT_LIMIT } from './privacy.js';

const cliActor = () => ({ type: 'cli' as const, id: process.env.USER ?? null });
const limitOption = z.coerce.number().int().min(1).max(MAX_EXPORT_LIMIT);

interface ListPart {
  object: 'list';
  data: unknown[];
  has_more: boolean;
}

type Export = Record<string, unknown> & {
  customer_id: string;
  merchant: string;
  livemode: boolean;
  erased_at: number | null;
  customer: { email: string | null; name: string | null; deleted: boolean };
};

function printExport(result: Export): void {
  const { customer } = result;
  process.stdout.write(
    `customer ${result.customer_id} (merchant ${result.merchant}, ${result.livemode ? 'live' : 'test'} mode)` +
      `${customer.deleted ? ', deleted' : ''}${result.erased_at ? `, erased at ${new Date(result.erased_at * 1000).toISOString()}` : ''}\n\n`,
  );
  const rows = Object.entries(result)
    .filter(([, value]) => (value as ListPart | null)?.object === 'list')
    .map(([kind, value]) => ({
      kind,
      count: (value as ListPart).data.length,
      more: (value as ListPart).has_more ? 'yes (raise --limit)' : 'no',
    }));
  printTable(rows, ['kind', 'count', 'more']);
  process.stdout.write('\nthe whole export: add --json\n');
}

export function registerPrivacyCommands(program: Command, globals: () => Globals): void {
  const customer = program.command('customer').description('GDPR: export or erase a customer (runbook 003)');

  customer
    .command('export <id>')
    .description('Everything held about a customer; each list capped at --limit, newest first')
    .option('--limit <n>', `most objects of each kind (1-${MAX_EXPORT_LIMIT})`, '100')
    .action(async (id: string, options: { limit: string }) => {
      const g = globals();
      const limit = parseOption(limitOption, options.limit, '--limit');
      const result = g.url
        ? await remoteClient(g).request<Export>(
            'POST',
            `/api/v1/privacy/data-export/${encodeURIComponent(id)}`,
            { limit },
          )
        : ((await inProcess(g.config, ({ services }) =>
            services.privacy.export(id, { limit }, { actor: cliActor() }),
          )) as unknown as Export);
      if (g.json) printJson(result);
      else printExport(result);
    });

  customer
    .command('erase <id>')
    .description(
      "Erase a customer's personal data and forget their cards; payments, refunds, ledger and audit stay",
    )
    .option('--yes', 'confirm: erasure cannot be undone')
    .action(async (id: string, options: { yes?: boolean }) => {
      const g = globals();
      if (options.yes !== true) {
        throw new UsageError(
          `refusing to erase ${id} without --yes: its personal data and stored cards are removed for good`,
        );
      }
      const result = g.url
        ? await remoteClient(g)
            .request<undefined>('DELETE', `/api/v1/privacy/data-erasure/${encodeURIComponent(id)}`)
            .then(() => ({ object: 'privacy_erasure', customer: id, erased: true }))
        : await inProcess(g.config, async ({ services }) => ({
            ...(await services.privacy.erase(id, { actor: cliActor() })),
            erased: true,
          }));
      if (g.json) printJson(result);
      else process.stdout.write(`customer ${id} erased: personal data removed, financial records kept\n`);
    });
}
