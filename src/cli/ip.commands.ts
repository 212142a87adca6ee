// payctl ip: runbook 003's emergency IP block. `ip block <ip> [--duration 1h] [--reason text]`,
// `ip unblock <ip>`, `ip list`. In process the change is audited with the CLI user as actor; over --url
// the service audits the token's operator. Every replica obeys a change within seconds.
import type { Command } from 'commander';
import { z } from 'zod';
import { type IpBlockObject, ipSchema, manualBlockSeconds } from '../modules/ip-blocks/ip-blocks.js';
import { type Globals, inProcess, parseOption, remoteClient } from './context.js';
import { printJson, printTable } from './output.js';

const cliActor = () => ({ type: 'cli' as const, id: process.env.USER ?? null });

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** `90`, `90s`, `30m`, `1h`, `7d` as seconds (at least a minute, at most a year). */
const durationOption = z
  .string()
  .regex(/^\d+[smhd]?$/, { message: 'must be a number of seconds or like 30m, 1h, 7d' })
  .transform((value) => {
    const unit = /[smhd]$/.test(value) ? (value.at(-1) as keyof typeof UNIT_SECONDS) : 's';
    return Number.parseInt(value, 10) * UNIT_SECONDS[unit];
  })
  .pipe(manualBlockSeconds());

const iso = (seconds: number | null) => (seconds === null ? null : new Date(seconds * 1000).toISOString());

function printBlocks(g: Globals, value: IpBlockObject | IpBlockObject[]): void {
  if (g.json) {
    printJson(value);
    return;
  }
  const rows = Array.isArray(value) ? value : [value];
  printTable(
    rows.map((row) => ({
      ...row,
      blocked_at: iso(row.blocked_at),
      blocked_until: iso(row.blocked_until) ?? 'until unblocked',
    })),
    ['ip', 'reason', 'blocked_at', 'blocked_until', 'blocked_by', 'note'],
  );
}

export function registerIpCommands(program: Command, globals: () => Globals): void {
  const ip = program
    .command('ip')
    .description('Blocked client addresses: brute-force blocks and manual ones (runbook 003)');

  ip.command('list')
    .description('Addresses blocked now, with the reason and when each block ends')
    .action(async () => {
      const g = globals();
      printBlocks(
        g,
        g.url
          ? (await remoteClient(g).request<{ data: IpBlockObject[] }>('GET', '/admin/ip_blocks')).data
          : await inProcess(g.config, ({ services }) => services.ipBlocks.list()),
      );
    });

  ip.command('block <ip>')
    .description('Refuse every request from the address (403) until the block ends or it is unblocked')
    .option('--duration <time>', 'how long, e.g. 30m, 1h, 7d (default: until unblocked)')
    .option('--reason <text>', 'kept with the block and in the audit log')
    .action(async (address: string, options: { duration?: string; reason?: string }) => {
      const g = globals();
      const target = parseOption(ipSchema, address, '<ip>');
      const durationSeconds =
        options.duration === undefined
          ? undefined
          : parseOption(durationOption, options.duration, '--duration');
      printBlocks(
        g,
        g.url
          ? await remoteClient(g).request<IpBlockObject>('POST', '/admin/ip_blocks', {
              ip: target,
              ...(durationSeconds === undefined ? {} : { duration_seconds: durationSeconds }),
              ...(options.reason ? { note: options.reason } : {}),
            })
          : await inProcess(g.config, ({ services }) =>
              services.ipBlocks.block(target, { durationSeconds, note: options.reason }, cliActor()),
            ),
      );
    });

  ip.command('unblock <ip>')
    .description('Lift a block at once')
    .action(async (address: string) => {
      const g = globals();
      const target = parseOption(ipSchema, address, '<ip>');
      printBlocks(
        g,
        g.url
          ? await remoteClient(g).request<IpBlockObject>(
              'DELETE',
              `/admin/ip_blocks/${encodeURIComponent(target)}`,
            )
          : await inProcess(g.config, ({ services }) => services.ipBlocks.unblock(target, cliActor())),
      );
    });
}
