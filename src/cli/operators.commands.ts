// payctl operators create, and merchants create: the accounts an operator needs before anything else.
import { type Command, Option } from 'commander';
import { timeZone } from '../http/params.js';
import { emailSchema, passwordSchema, roleSchema } from '../modules/operators/operators.js';
import { type Globals, inProcess, parseOption, remoteClient, UsageError } from './context.js';
import { printJson, printTable } from './output.js';

const cliActor = () => ({ type: 'cli' as const, id: process.env.USER ?? null });

export function registerOperatorCommands(program: Command, globals: () => Globals): void {
  const operators = program.command('operators').description('Operator accounts');
  operators
    .command('create')
    .description('Create an operator account')
    .requiredOption('--email <email>')
    .addOption(
      new Option('--role <role>')
        .choices(['payment-admin', 'payment-operator', 'payment-viewer'])
        .makeOptionMandatory(),
    )
    .option('--password <password>', 'at least 12 characters (default: read PAYCTL_OPERATOR_PASSWORD)')
    .action(async (options: { email: string; role: string; password?: string }) => {
      const g = globals();
      const password = options.password ?? process.env.PAYCTL_OPERATOR_PASSWORD;
      if (!password) throw new UsageError('a password is required: --password or PAYCTL_OPERATOR_PASSWORD');
      const input = {
        email: parseOption(emailSchema, options.email, '--email'),
        password: parseOption(passwordSchema, password, '--password'),
        role: parseOption(roleSchema, options.role, '--role'),
      };
      const created = g.url
        ? await remoteClient(g).request<Record<string, unknown>>('POST', '/admin/operators', input)
        : await inProcess(g.config, ({ services }) => services.operators.create(input, cliActor()));
      if (g.json) printJson(created);
      else printTable([created], ['id', 'email', 'role']);
    });

  const merchants = program.command('merchants').description('Merchants');
  merchants
    .command('create')
    .description('Create a merchant with a test-mode secret and publishable key (printed once)')
    .requiredOption('--name <name>')
    .option('--timezone <zone>', 'IANA time zone its daily reports cut days in (default UTC)')
    .action(async (options: { name: string; timezone?: string }) => {
      const g = globals();
      const name = options.name.trim();
      if (name === '' || name.length > 200) throw new UsageError('--name: must be 1 to 200 characters');
      const timezone =
        options.timezone === undefined ? undefined : parseOption(timeZone(), options.timezone, '--timezone');
      const created = g.url
        ? await remoteClient(g).request<Record<string, unknown>>('POST', '/admin/merchants', {
            name,
            timezone,
          })
        : await inProcess(g.config, async ({ services }) => {
            const result = await services.merchants.createWithKeys(name, timezone);
            await services.audit.record({
              actor: cliActor(),
              action: 'merchant.create',
              resourceType: 'merchant',
              resourceId: result.merchant.id,
              outcome: 'success',
              newValue: { name, timezone: result.merchant.timezone },
            });
            return {
              ...(await services.merchants.retrieve(result.merchant.id, 'id')),
              secret_key: result.secret.secret,
              publishable_key: result.publishable.secret,
            };
          });
      if (g.json) {
        printJson(created);
        return;
      }
      printTable([created], ['id', 'name', 'timezone']);
      process.stdout.write(
        `\nsecret key (shown once):      ${String(created.secret_key)}\n` +
          `publishable key (shown once): ${String(created.publishable_key)}\n`,
      );
    });
}
