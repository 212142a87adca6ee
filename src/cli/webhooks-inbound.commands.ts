// payctl webhooks inbound: list the inbound webhook inbox and replay dead (or failed) events, in
// process against the database or over --url with an operator token. In process a replay is audited
// with the CLI user as actor and its jobs run on the next worker poll; over --url the service audits
// the token's operator.
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { INBOX_STATUSES, toInboxObject } from '../modules/webhooks-in/webhook-inbox.js';
import { type Globals, inProcess, parseOption, remoteClient, UsageError } from './context.js';
import { printJson, printTable } from './output.js';

type InboxObject = Record<string, unknown> & { id: string };

const cliActor = () => ({ type: 'cli' as const, id: process.env.USER ?? null });
const limitOption = z.coerce.number().int().min(1).max(100);

/** A time given as Unix seconds or an ISO 8601 date, as Unix seconds. */
const timeOption = z.string().transform((value, ctx) => {
  const seconds = /^\d+$/.test(value) ? Number(value) : Date.parse(value) / 1000;
  if (!Number.isFinite(seconds) || seconds < 0) {
    ctx.addIssue({ code: 'custom', message: `must be Unix seconds or an ISO date (got "${value}")` });
    return z.NEVER;
  }
  return Math.floor(seconds);
});

function query(params: Record<string, string | number | undefined>): string {
  const entries = Object.entries(params).filter(([, value]) => value !== undefined);
  if (entries.length === 0) return '';
  return `?${new URLSearchParams(entries.map(([key, value]): [string, string] => [key, String(value)])).toString()}`;
}

export function registerInboundWebhookCommands(webhooks: Command, globals: () => Globals): void {
  const inbound = webhooks.command('inbound').description('Inbound provider webhooks (the inbox)');

  inbound
    .command('list')
    .description('List stored inbound webhooks, newest first')
    .addOption(new Option('--status <status>').choices([...INBOX_STATUSES]))
    .addOption(new Option('--provider <provider>').choices(['stripe', 'paypal']))
    .option('--type <type>', 'only this event type')
    .option('--limit <n>', 'at most this many (1 to 100)', '20')
    .action(async (options: { status?: string; provider?: string; type?: string; limit: string }) => {
      const g = globals();
      const limit = parseOption(limitOption, options.limit, '--limit');
      const filters = { status: options.status, provider: options.provider, type: options.type, limit };
      const list = g.url
        ? (
            await remoteClient(g).request<{ data: InboxObject[] }>(
              'GET',
              `/admin/webhooks/inbound${query(filters)}`,
            )
          ).data
        : await inProcess(g.config, async ({ services }) => {
            const page = await services.webhookInbox.list(
              {
                status: options.status as (typeof INBOX_STATUSES)[number] | undefined,
                provider: options.provider,
                type: options.type,
              },
              { limit },
            );
            return (page?.rows ?? []).map((row) => toInboxObject(row) as InboxObject);
          });
      if (g.json) {
        printJson(list);
        return;
      }
      printTable(list, [
        'id',
        'provider',
        'provider_event_id',
        'type',
        'status',
        'attempts',
        'received_at',
        'processed_at',
      ]);
    });

  inbound
    .command('replay')
    .description('Process inbound webhooks again: one by --id, or every --status dead|failed one')
    .option('--id <id>', 'one stored webhook (whin_...)')
    .addOption(new Option('--status <status>').choices(['dead', 'failed']))
    .option('--from <time>', 'received at or after (Unix seconds or ISO date)')
    .option('--to <time>', 'received before (Unix seconds or ISO date)')
    .action(async (options: { id?: string; status?: 'dead' | 'failed'; from?: string; to?: string }) => {
      const g = globals();
      if ((options.id === undefined) === (options.status === undefined)) {
        throw new UsageError('give either --id ID or --status dead|failed');
      }
      if (options.id !== undefined && (options.from !== undefined || options.to !== undefined)) {
        throw new UsageError('--from and --to go with --status, not --id');
      }
      const from = options.from !== undefined ? parseOption(timeOption, options.from, '--from') : undefined;
      const to = options.to !== undefined ? parseOption(timeOption, options.to, '--to') : undefined;
      if (from !== undefined && to !== undefined && from >= to)
        throw new UsageError('--to must be after --from');
      const body = options.id !== undefined ? { id: options.id } : { status: options.status, from, to };
      const replayed = g.url
        ? (
            await remoteClient(g).request<{ replayed: number }>(
              'POST',
              '/admin/webhooks/inbound/replay',
              body,
            )
          ).replayed
        : await inProcess(g.config, async ({ services }) => {
            if (options.id !== undefined && !(await services.webhookInbox.find(options.id))) {
              throw new UsageError(`no inbound webhook ${options.id}`);
            }
            return services.webhookInbox.replay(
              {
                id: options.id,
                status: options.status,
                from: from !== undefined ? new Date(from * 1000) : undefined,
                to: to !== undefined ? new Date(to * 1000) : undefined,
              },
              cliActor(),
            );
          });
      if (g.json) printJson({ replayed });
      else process.stdout.write(`replayed ${replayed} inbound webhook${replayed === 1 ? '' : 's'}\n`);
    });
}
