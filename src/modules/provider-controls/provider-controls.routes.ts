// Operator API for provider incidents: each provider's circuit and back-pressure, forcing a circuit
// open or closed (or back to automatic), and the run-time switches. Changes need `provider:operate`
// (admins and on-call operators), reads `payment:read`; every change is audited with old and new value.
import { boolean } from '../../http/params.js';
import { originOf, type Router } from '../../http/route.js';
import type { ProviderGateway } from '../../providers/gateway.js';
import { circuitRequestSchema, providerNameSchema, switchNameSchema } from './provider-controls.js';
import type { ProviderControlsService } from './provider-controls.service.js';

interface Deps {
  controls: ProviderControlsService;
  gateway: ProviderGateway;
}

export function registerProviderControlRoutes(router: Router, { controls, gateway }: Deps): void {
  const tags = ['Providers'];
  router.operator({
    method: 'GET',
    url: '/admin/providers',
    summary: 'Each provider: configured, circuit state, forced state, in flight, queue depth, back-off',
    tags,
    permission: 'payment:read',
    handler: async () => ({
      object: 'list',
      data: (await gateway.statuses()).map((status) => ({ object: 'provider', ...status })),
      has_more: false,
      url: '/admin/providers',
    }),
  });
  router.operator({
    method: 'POST',
    url: '/admin/providers/:name/circuit',
    summary: 'Force a provider circuit open or closed on every replica, or return it to automatic',
    tags,
    permission: 'provider:operate',
    params: { name: providerNameSchema },
    input: { state: circuitRequestSchema },
    handler: async ({ params, input, operator, info }) => {
      const changed = await controls.setCircuit(
        params.name,
        input.state,
        { type: 'operator', id: operator.operatorId },
        originOf(info),
      );
      const status = (await gateway.statuses()).find((s) => s.provider === params.name);
      return { object: 'provider', ...status, previous_forced: changed.old === 'auto' ? null : changed.old };
    },
  });
  router.operator({
    method: 'GET',
    url: '/admin/switches',
    summary: 'The run-time switches and where their values come from',
    tags,
    permission: 'payment:read',
    handler: async () => ({
      object: 'list',
      data: await controls.listSwitches(),
      has_more: false,
      url: '/admin/switches',
    }),
  });
  router.operator({
    method: 'POST',
    url: '/admin/switches/:name',
    summary: 'Turn a run-time switch on or off on every replica',
    tags,
    permission: 'provider:operate',
    params: { name: switchNameSchema },
    input: { enabled: boolean() },
    handler: async ({ params, input, operator, info }) =>
      controls.setSwitch(
        params.name,
        input.enabled,
        { type: 'operator', id: operator.operatorId },
        originOf(info),
      ),
  });
  // Runbook 003's emergency step, `curl -X POST .../actuator/circuit-breaker/enable`, served as
  // written (operator auth, audited like the switch it sets); `disable` is its undo.
  for (const [action, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    router.operator({
      method: 'POST',
      url: `/actuator/circuit-breaker/${action}`,
      summary: `Turn circuit breaking ${enabled ? 'on' : 'off'} on every replica (runbook 003)`,
      tags,
      permission: 'provider:operate',
      handler: async ({ operator, info }) =>
        controls.setSwitch(
          'circuit_breaker_enabled',
          enabled,
          { type: 'operator', id: operator.operatorId },
          originOf(info),
        ),
    });
  }
}
