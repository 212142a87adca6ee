// payctl flags: list, status, set a rollout percentage per environment, kill and enable (runbook 002's
// flag API and kill switch). In process every change is audited with the CLI user as actor and reaches
// running replicas within seconds; over --url the service audits the token's operator.
import type { Command } from 'commander';
import { boundedInteger } from '../http/params.js';
import { environmentSchema, type FlagName, type FlagObject, flagNameSchema } from '../modules/flags/flags.js';
import { type Globals, inProcess, parseOption, remoteClient } from './context.js';
import { printJson, printTable } from './output.js';

const cliActor = () => ({ type: 'cli' as const, id: process.env.USER ?? null });

const rolloutOption = boundedInteger(0, 100);

function printFlags(g: Globals, value: FlagObject | FlagObject[]): void {
  if (g.json) {
    printJson(value);
    return;
  }
  const flags = Array.isArray(value) ? value : [value];
  printTable(
    flags.map((flag) => ({
      ...flag,
      rollout: `${flag.rollout.value}%`,
      environments: Object.entries(flag.environments)
        .map(([env, { rollout }]) => `${env}=${rollout.value}`)
        .join(' '),
      updated_at: flag.updated_at === null ? null : new Date(flag.updated_at * 1000).toISOString(),
    })),
    ['name', 'state', 'environment', 'rollout', 'environments', 'updated_at', 'updated_by'],
  );
}

const flagPath = (name: FlagName) => `/admin/flags/${encodeURIComponent(name)}`;

export function registerFlagCommands(program: Command, globals: () => Globals): void {
  const flags = program
    .command('flags')
    .description('Feature flags: payments_live_v1 is the payments kill switch and rollout (runbook 002)');

  flags
    .command('list')
    .description('Every flag: state, this environment and its rollout, every environment')
    .action(async () => {
      const g = globals();
      const list = g.url
        ? (await remoteClient(g).request<{ data: FlagObject[] }>('GET', '/admin/flags')).data
        : await inProcess(g.config, ({ services }) => services.flags.list());
      printFlags(g, list);
    });

  flags
    .command('status <flag>')
    .description('One flag: enabled or killed, rollout per environment, last change')
    .action(async (flag: string) => {
      const g = globals();
      const name = parseOption(flagNameSchema, flag, '<flag>');
      printFlags(
        g,
        g.url
          ? await remoteClient(g).request<FlagObject>('GET', flagPath(name))
          : await inProcess(g.config, ({ services }) => services.flags.status(name)),
      );
    });

  flags
    .command('set <flag>')
    .description("Set an environment's rollout percentage (0 admits nobody, 100 everybody)")
    .requiredOption('--env <env>', 'development, test, staging or production')
    .requiredOption('--rollout <percent>', 'an integer from 0 to 100')
    .action(async (flag: string, options: { env: string; rollout: string }) => {
      const g = globals();
      const name = parseOption(flagNameSchema, flag, '<flag>');
      const env = parseOption(environmentSchema, options.env, '--env');
      const value = parseOption(rolloutOption, options.rollout, '--rollout');
      printFlags(
        g,
        g.url
          ? await remoteClient(g).request<FlagObject>('PATCH', flagPath(name), {
              environments: { [env]: { rollout: { value } } },
            })
          : await inProcess(g.config, ({ services }) =>
              services.flags.setRollouts(name, { [env]: value }, cliActor()),
            ),
      );
    });

  for (const [action, description] of [
    ['kill', 'Kill switch: refuse every new payment confirmation (captures and refunds continue)'],
    ['enable', 'Lift the kill switch: the rollouts apply again'],
  ] as const) {
    flags
      .command(`${action} <flag>`)
      .description(description)
      .option('--reason <text>', 'kept in the audit log')
      .action(async (flag: string, options: { reason?: string }) => {
        const g = globals();
        const name = parseOption(flagNameSchema, flag, '<flag>');
        printFlags(
          g,
          g.url
            ? await remoteClient(g).request<FlagObject>(
                'POST',
                `${flagPath(name)}/${action}`,
                options.reason ? { reason: options.reason } : {},
              )
            : await inProcess(g.config, ({ services }) =>
                services.flags[action](name, cliActor(), undefined, options.reason),
              ),
        );
      });
  }
}
