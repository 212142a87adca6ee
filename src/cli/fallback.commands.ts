// payctl fallback: turn the run-time switch `fallback_provider_enabled` on or off on every replica
// (runbook 000's FALLBACK_PROVIDER_ENABLED, without a restart), or show it. In process the change is
// audited with the CLI user as actor; over --url the service audits the token's operator.
import type { Command } from 'commander';
import type { SwitchObject } from '../modules/provider-controls/provider-controls.js';
import { type Globals, inProcess, remoteClient } from './context.js';
import { printJson, printTable } from './output.js';

const SWITCH = 'fallback_provider_enabled';
const cliActor = () => ({ type: 'cli' as const, id: process.env.USER ?? null });

function printSwitch(g: Globals, value: SwitchObject): void {
  if (g.json) printJson(value);
  else {
    printTable(
      [
        {
          ...value,
          updated_at: value.updated_at === null ? null : new Date(value.updated_at * 1000).toISOString(),
        },
      ],
      ['name', 'enabled', 'source', 'default', 'updated_at', 'updated_by'],
    );
  }
}

export function registerFallbackCommands(program: Command, globals: () => Globals): void {
  const fallback = program
    .command('fallback')
    .description('Fallback to the next provider after a failure that proved no charge');

  for (const [action, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    fallback
      .command(action)
      .description(`Turn provider fallback ${enabled ? 'on' : 'off'} on every replica`)
      .action(async () => {
        const g = globals();
        printSwitch(
          g,
          g.url
            ? await remoteClient(g).request<SwitchObject>('POST', `/admin/switches/${SWITCH}`, { enabled })
            : await inProcess(g.config, ({ services }) =>
                services.providerControls.setSwitch(SWITCH, enabled, cliActor(), {}),
              ),
        );
      });
  }

  fallback
    .command('status')
    .description('Whether provider fallback is on, and where that comes from')
    .action(async () => {
      const g = globals();
      const switches = g.url
        ? (await remoteClient(g).request<{ data: SwitchObject[] }>('GET', '/admin/switches')).data
        : await inProcess(g.config, ({ services }) => services.providerControls.listSwitches());
      const found = switches.find((s) => s.name === SWITCH);
      if (found) printSwitch(g, found);
    });
}
