// payctl: the operator's command line. `start` runs the service; the other commands act either in
// process against DATABASE_URL (or DATA_DIR when no service holds it) or over HTTP with --url/--token.
import { Command, Option } from 'commander';
import { type Config, ConfigError, loadConfig } from '../config.js';
import { DataDirLockedError } from '../db/connect.js';
import { AppError } from '../http/errors.js';
import { createService, type Role, type Service } from '../main.js';
import { createLogger } from '../observability/logger.js';
import { printJson, printTable } from './output.js';
import { RemoteClient, RemoteError } from './remote.js';

interface GlobalOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

const program = new Command('payctl')
  .description('Operate the payment service: start it, migrate, manage keys and operators')
  .option('--url <url>', 'reach a running service at this URL (default PAYCTL_URL)')
  .option('--token <token>', 'operator API token for --url (default PAYCTL_TOKEN)')
  .option('--json', 'print JSON for scripts instead of tables')
  .showHelpAfterError();

function globals(): GlobalOptions & { config: Config } {
  const options = program.opts<GlobalOptions>();
  const config = loadConfig();
  return {
    ...options,
    url: options.url ?? config.PAYCTL_URL,
    token: options.token ?? config.PAYCTL_TOKEN,
    config,
  };
}

/** Runs `fn` against an in-process service built on the configured database, then closes it. */
async function inProcess<T>(config: Config, fn: (service: Service) => Promise<T>): Promise<T> {
  const service = await createService(config, { role: 'api', logger: createLogger({ level: 'warn' }) });
  try {
    return await fn(service);
  } finally {
    await service.close();
  }
}

program
  .command('start')
  .description('Start the service (HTTP API and/or job workers)')
  .addOption(
    new Option('--role <role>', 'what this process runs').choices(['api', 'worker', 'all']).default('all'),
  )
  .action(async (options: { role: Role }) => {
    const config = loadConfig();
    const service = await createService(config, { role: options.role });
    const { port } = await service.start();
    process.stdout.write(
      `payment service listening on http://${config.HOST}:${port} (${service.database.kind}, role ${options.role})\n`,
    );
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      service.logger.info({ signal }, 'shutting down: draining requests and jobs');
      const timer = setTimeout(() => {
        service.logger.error('shutdown took too long; exiting');
        process.exit(1);
      }, config.SHUTDOWN_TIMEOUT_MS + 5_000);
      timer.unref();
      await service.close();
      process.exit(0);
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
  });

program
  .command('migrate')
  .description('Apply pending database migrations (they also run at every start)')
  .action(async () => {
    const { config } = globals();
    await inProcess(config, async () => {});
    process.stdout.write('migrations are up to date\n');
  });

const keys = program.command('keys').description('Merchant API keys');
keys
  .command('create')
  .description('Create an API key; the secret is printed once')
  .requiredOption('--merchant <id>', 'merchant id (acct_...)')
  .addOption(new Option('--kind <kind>').choices(['secret', 'restricted', 'publishable']).default('secret'))
  .option('--live', 'a live-mode key (default test mode)')
  .option('--name <name>', 'a label for the key')
  .option(
    '--scopes <scopes>',
    'restricted keys: comma-separated scopes, e.g. customers:read,payment_intents:write',
  )
  .action(
    async (options: { merchant: string; kind: string; live?: boolean; name?: string; scopes?: string }) => {
      const { config, url, token, json } = globals();
      const body = {
        merchant: options.merchant,
        kind: options.kind,
        livemode: options.live === true,
        ...(options.name ? { name: options.name } : {}),
        ...(options.scopes ? { scopes: options.scopes.split(',').map((s) => s.trim()) } : {}),
      };
      const created = url
        ? await new RemoteClient(url, token).request<Record<string, unknown>>('POST', '/admin/keys', body)
        : await inProcess(config, async (service) => {
            await service.services.merchants.retrieve(options.merchant, 'merchant');
            const result = await service.services.keys.create(options.merchant, {
              kind: body.kind as 'secret',
              livemode: body.livemode,
              name: options.name,
              scopes: body.scopes,
            });
            await service.services.audit.record({
              actor: { type: 'cli', id: process.env.USER ?? null },
              action: 'api_key.create',
              resourceType: 'api_key',
              resourceId: result.key.id,
              outcome: 'success',
              newValue: result.key,
            });
            return { ...result.key, secret: result.secret };
          });
      if (json) printJson(created);
      else {
        printTable([created], ['id', 'kind', 'livemode', 'redacted']);
        process.stdout.write(`\nsecret (shown once): ${String(created.secret)}\n`);
      }
    },
  );
keys
  .command('list')
  .description('List API keys (redacted)')
  .option('--merchant <id>', 'only this merchant')
  .action(async (options: { merchant?: string }) => {
    const { config, url, token, json } = globals();
    const list = url
      ? (
          await new RemoteClient(url, token).request<{ data: Record<string, unknown>[] }>(
            'GET',
            `/admin/keys${options.merchant ? `?merchant=${encodeURIComponent(options.merchant)}` : ''}`,
          )
        ).data
      : await inProcess(
          config,
          (service) => service.services.keys.list(options.merchant) as Promise<never[]>,
        );
    if (json) printJson(list);
    else
      printTable(list, [
        'id',
        'kind',
        'livemode',
        'redacted',
        'created',
        'expires_at',
        'revoked_at',
        'last_used_at',
      ]);
  });

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
    const { config, url, token, json } = globals();
    const password = options.password ?? process.env.PAYCTL_OPERATOR_PASSWORD;
    if (!password) throw new UsageError('a password is required: --password or PAYCTL_OPERATOR_PASSWORD');
    const body = { email: options.email, password, role: options.role };
    const created = url
      ? await new RemoteClient(url, token).request<Record<string, unknown>>('POST', '/admin/operators', body)
      : await inProcess(config, async (service) => {
          const { emailSchema, passwordSchema, roleSchema } = await import(
            '../modules/operators/operators.js'
          );
          const parsed = {
            email: emailSchema.parse(options.email),
            password: passwordSchema.parse(password),
            role: roleSchema.parse(options.role),
          };
          return service.services.operators.create(parsed, { type: 'cli', id: process.env.USER ?? null });
        });
    if (json) printJson(created);
    else printTable([created], ['id', 'email', 'role']);
  });

class UsageError extends Error {}

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof DataDirLockedError || error instanceof UsageError) {
      process.stderr.write(`payctl: ${error.message}\n`);
    } else if (error instanceof RemoteError) {
      process.stderr.write(`payctl: the service answered ${error.status}: ${error.message}\n`);
    } else if (error && typeof error === 'object' && 'issues' in error) {
      const issues = (error as { issues: { path: PropertyKey[]; message: string }[] }).issues;
      process.stderr.write(`payctl: ${issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}\n`);
    } else if (error instanceof AppError) {
      process.stderr.write(`payctl: ${error.message}\n`);
    } else {
      process.stderr.write(`payctl: ${(error as Error)?.stack ?? String(error)}\n`);
    }
    process.exit(error instanceof UsageError ? 64 : 1);
  }
}

await main();
