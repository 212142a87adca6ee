// payctl webhooks: endpoints and deliveries across merchants, replay (by event, an endpoint's failed
// or dead deliveries, or a time range) and sample triggers (runbook 002's `stripe trigger`). Over
// --url the service audits the token's operator; in process the CLI user is the actor.
import type { Command } from 'commander';
import { z } from 'zod';
import { deliveryStatus, replayFields, triggerFields } from '../modules/webhooks-out/webhooks-admin.js';
import { type Globals, inProcess, parseOption, remoteClient, UsageError } from './context.js';
import { printJson, printTable } from './output.js';

type Row = Record<string, unknown>;

const cliActing = () => ({ actor: { type: 'cli' as const, id: process.env.USER ?? null } });
const replaySchema = z.strictObject(replayFields);
const triggerSchema = z.strictObject(triggerFields);

function query(params: Record<string, string | undefined>): string {
  const entries = Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined);
  return entries.length === 0 ? '' : `?${new URLSearchParams(entries).toString()}`;
}

function output(g: Globals, value: unknown, rows: Row[], columns: string[]): void {
  if (g.json) printJson(value);
  else printTable(rows, columns);
}

/** The `webhooks` group (outbound); returned so the inbound commands join it. */
export function registerWebhookCommands(program: Command, globals: () => Globals): Command {
  const webhooks = program
    .command('webhooks')
    .description(
      'Webhooks: merchant endpoints, deliveries, replay, trigger; `inbound` for the provider inbox',
    );

  webhooks
    .command('list')
    .description('Webhook endpoints of every merchant')
    .option('--status <status>', 'enabled or disabled')
    .option('--merchant <id>', 'only this merchant')
    .action(async (options: { status?: string; merchant?: string }) => {
      const g = globals();
      const status =
        options.status === undefined
          ? undefined
          : parseOption(z.enum(['enabled', 'disabled']), options.status, '--status');
      const filters = { status, merchant: options.merchant, limit: '100' };
      const list = g.url
        ? await remoteClient(g).request<{ data: Row[] }>('GET', `/admin/webhook_endpoints${query(filters)}`)
        : await inProcess(g.config, ({ services }) =>
            services.webhooksAdmin.listEndpoints({ status, merchant: options.merchant, limit: 100 }),
          );
      output(g, list.data, list.data as Row[], [
        'id',
        'merchant',
        'status',
        'url',
        'enabled_events',
        'disabled_reason',
      ]);
    });

  webhooks
    .command('deliveries')
    .description('Recent deliveries, newest first')
    .option('--status <status>', 'pending, succeeded, failed or dead')
    .option('--endpoint <id>', 'only this endpoint (we_...)')
    .option('--event <id>', 'only this event (evt_...)')
    .action(async (options: { status?: string; endpoint?: string; event?: string }) => {
      const g = globals();
      const status =
        options.status === undefined ? undefined : parseOption(deliveryStatus, options.status, '--status');
      const list = g.url
        ? await remoteClient(g).request<{ data: Row[] }>(
            'GET',
            `/admin/webhook_deliveries${query({ status, endpoint: options.endpoint, event: options.event, limit: '100' })}`,
          )
        : await inProcess(g.config, ({ services }) =>
            services.webhooksAdmin.listDeliveries({
              status,
              endpoint: options.endpoint,
              event: options.event,
              limit: 100,
            }),
          );
      output(g, list.data, list.data as Row[], [
        'id',
        'event',
        'endpoint',
        'status',
        'attempts',
        'last_status_code',
        'last_error',
        'next_attempt_at',
      ]);
    });

  webhooks
    .command('replay')
    .description(
      'Re-queue deliveries: --event ID | --endpoint ID --status failed|dead | --from ISO --to ISO [--endpoint ID]',
    )
    .option('--event <id>', 'every delivery of this event (and endpoints that match it now)')
    .option('--endpoint <id>', 'with --status, or to narrow --from/--to')
    .option('--status <status>', 'failed or dead (with --endpoint)')
    .option('--from <time>', 'ISO 8601 or Unix seconds')
    .option('--to <time>', 'ISO 8601 or Unix seconds')
    .action(
      async (options: { event?: string; endpoint?: string; status?: string; from?: string; to?: string }) => {
        const g = globals();
        const body = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
        if (Object.keys(body).length === 0)
          throw new UsageError('give --event, --endpoint with --status, or --from and --to');
        const input = parseOption(replaySchema, body, '--' + (Object.keys(body)[0] ?? 'event'));
        const result = g.url
          ? await remoteClient(g).request<{ replayed: number }>('POST', '/admin/webhooks/replay', body)
          : await inProcess(g.config, ({ services }) => services.webhooksAdmin.replay(input, cliActing()));
        if (g.json) printJson(result);
        else process.stdout.write(`replayed ${result.replayed} deliveries\n`);
      },
    );

  webhooks
    .command('trigger <type>')
    .description('Record a sample event of <type> (marked sample) and deliver it the normal way')
    .option('--endpoint <id>', 'send to this endpoint only')
    .option('--merchant <id>', 'send to every matching endpoint of this merchant (test mode)')
    .action(async (type: string, options: { endpoint?: string; merchant?: string }) => {
      const g = globals();
      const body = { type, ...options };
      const input = parseOption(triggerSchema, body, 'type');
      const event = g.url
        ? await remoteClient(g).request<Row>('POST', '/admin/webhooks/trigger', body)
        : await inProcess(g.config, ({ services }) => services.webhooksAdmin.trigger(input, cliActing()));
      if (g.json) printJson(event);
      else process.stdout.write(`recorded ${String(event.type)} event ${String(event.id)}\n`);
    });
  return webhooks;
}
