// payctl providers status|verify and providers circuit open|close|auto <provider> (runbooks 000, 002 and
// 004: is the provider reachable, is its circuit open, force it). `status` joins each provider's health
// check, circuit state, forced state and the run-time switches; `verify` is runbook 002's connectivity
// test (a small charge and its refund per card provider; exit 1 if any fails); `circuit` forces a
// provider's circuit on every replica, audited. In process the breaker column is this process's own
// (breakers live in each replica), so read the live one over --url.
import type { Command } from 'commander';
import { integer } from '../http/params.js';
import type { ConnectivityReport } from '../modules/provider-controls/connectivity-test.js';
import {
  type CircuitRequest,
  providerNameSchema,
  type SwitchObject,
} from '../modules/provider-controls/provider-controls.js';
import { currencySchema } from '../modules/routing/routing.js';
import type { CheckResult } from '../observability/health.js';
import type { ProviderStatus } from '../providers/gateway.js';
import { type Globals, inProcess, parseOption, remoteClient, UsageError } from './context.js';
import { printJson, printTable } from './output.js';

const cliActor = () => ({ type: 'cli' as const, id: process.env.USER ?? null });
const HEALTH_CHECKS: Record<string, string> = { stripe: 'stripe_api', paypal: 'paypal_api' };

interface ProvidersStatus {
  providers: (ProviderStatus & { health: string | null })[];
  switches: SwitchObject[];
}

function withHealth(statuses: ProviderStatus[], checks: Record<string, Pick<CheckResult, 'state'>>) {
  return statuses.map((status) => {
    const check = HEALTH_CHECKS[status.provider];
    return {
      ...status,
      health: check ? (checks[check]?.state ?? null) : status.configured ? 'built_in' : null,
    };
  });
}

async function providersStatus(g: Globals): Promise<ProvidersStatus> {
  if (g.url) {
    const client = remoteClient(g);
    const [providers, switches, health] = await Promise.all([
      client.request<{ data: ProviderStatus[] }>('GET', '/admin/providers'),
      client.request<{ data: SwitchObject[] }>('GET', '/admin/switches'),
      client.request<{ checks: Record<string, CheckResult> }>('GET', '/health/detailed').catch(() => ({
        checks: {},
      })),
    ]);
    return { providers: withHealth(providers.data, health.checks), switches: switches.data };
  }
  return inProcess(g.config, async ({ gateway, health, services }) => ({
    providers: withHealth(await gateway.statuses(), await health.runAll()),
    switches: await services.providerControls.listSwitches(),
  }));
}

function printProviders(providers: ProvidersStatus['providers']): void {
  printTable(
    providers.map((p) => ({ ...p, forced: p.forced ?? 'auto', backoff_until: p.backoff_until ?? null })),
    [
      'provider',
      'configured',
      'health',
      'state',
      'breaker_state',
      'forced',
      'in_flight',
      'queue_depth',
      'backoff_until',
    ],
  );
}

const CIRCUIT_ACTIONS: Record<string, CircuitRequest> = { open: 'open', close: 'closed', auto: 'auto' };

export function registerProviderCommands(program: Command, globals: () => Globals): void {
  const providers = program
    .command('providers')
    .description('Payment providers: health, circuits, switches; the connectivity test; forcing a circuit');

  providers
    .command('status')
    .description('Each provider: health check, circuit state, forced state, load; and the run-time switches')
    .action(async () => {
      const g = globals();
      const status = await providersStatus(g);
      if (g.json) {
        printJson(status);
        return;
      }
      printProviders(status.providers);
      console.log('');
      printTable(
        status.switches.map((s) => ({ switch: s.name, ...s })),
        ['switch', 'enabled', 'source', 'default', 'updated_by'],
      );
    });

  providers
    .command('verify')
    .description(
      "Runbook 002's connectivity test: a small charge and its refund at each card provider; exit 1 if any fails",
    )
    .option('--amount <minor>', 'from 50 to 1000 minor units', '50')
    .option('--currency <code>', 'the charge currency', 'usd')
    .action(async (options: { amount: string; currency: string }) => {
      const g = globals();
      const amount = parseOption(
        integer().refine((n) => n >= 50 && n <= 1000, 'must be between 50 and 1000 minor units'),
        options.amount,
        '--amount',
      );
      const currency = parseOption(currencySchema, options.currency, '--currency').toLowerCase();
      const report = g.url
        ? await remoteClient(g).request<ConnectivityReport>('POST', '/admin/payments/test', {
            amount,
            currency,
          })
        : await inProcess(g.config, ({ services }) =>
            services.connectivityTest.run({ amount, currency }, cliActor(), {}),
          );
      if (g.json) printJson(report);
      else
        printTable(report.providers as unknown as Record<string, unknown>[], [
          'provider',
          'charge',
          'refund',
          'latency_ms',
          'error',
        ]);
      if (!report.ok) {
        const failed = report.providers
          .filter((p) => p.charge !== 'ok' || p.refund !== 'ok')
          .map((p) => p.provider);
        throw new Error(
          failed.length > 0
            ? `connectivity test failed for ${failed.join(', ')}`
            : 'connectivity test failed: no card provider is configured',
        );
      }
    });

  providers
    .command('circuit <action> <provider>')
    .description(
      'Force a provider circuit open or closed on every replica (open, close), or back to automatic (auto)',
    )
    .action(async (action: string, provider: string) => {
      const g = globals();
      const state = CIRCUIT_ACTIONS[action];
      if (!state)
        throw new UsageError(`<action>: must be open, close or auto (got ${JSON.stringify(action)})`);
      const name = parseOption(providerNameSchema, provider, '<provider>');
      const status = g.url
        ? await remoteClient(g).request<ProviderStatus>('POST', `/admin/providers/${name}/circuit`, { state })
        : await inProcess(g.config, async ({ services, gateway }) => {
            await services.providerControls.setCircuit(name, state, cliActor(), {});
            return (await gateway.statuses()).find((s) => s.provider === name) as ProviderStatus;
          });
      if (g.json) printJson(status);
      else printProviders([{ ...status, health: null }]);
    });
}
