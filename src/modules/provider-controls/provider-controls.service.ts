// Owns the operators' provider controls in PostgreSQL and the cache every replica reads them through.
// The cache lives CACHE_TTL_MS (age measured with performance.now(), not business time), so a change on
// one replica is obeyed by every replica within about a second; a change made here is obeyed at once.
// If the database cannot be read, the last known controls stay in force (payments keep flowing).
import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.js';
import { RefreshingSnapshot } from '../../db/refreshing-snapshot.js';
import type { Database } from '../../db/schema.js';
import type { Logger } from '../../observability/logger.js';
import type { ProviderName } from '../../providers/provider.js';
import {
  type ControlsSnapshot,
  type ControlsSource,
  SWITCH_NAMES,
  type SwitchName,
} from '../../providers/resilience.js';
import type { AuditActor, AuditOrigin } from '../audit/audit.js';
import type { AuditService } from '../audit/audit.service.js';
import { type CircuitRequest, type SwitchObject, toSwitchObject } from './provider-controls.js';
import {
  deleteProviderControl,
  listProviderControls,
  listRuntimeSwitches,
  lockProviderControl,
  lockRuntimeSwitch,
  upsertProviderControl,
  upsertRuntimeSwitch,
} from './provider-controls.repository.js';
import type { RuntimeSwitchRow } from './provider-controls.table.js';

export const CONTROLS_CACHE_TTL_MS = 1_000;

/** What the cache holds: the snapshot routing obeys, and the switch rows operators read. */
interface StoredControls {
  snapshot: ControlsSnapshot;
  switchRows: ReadonlyMap<string, RuntimeSwitchRow>;
}

export interface ControlsDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  logger: Logger;
  /** The environment's defaults: CIRCUIT_BREAKER_ENABLED, FALLBACK_PROVIDER_ENABLED. */
  defaults: Record<SwitchName, boolean>;
}

export class ProviderControlsService implements ControlsSource {
  private readonly stored: RefreshingSnapshot<StoredControls>;

  constructor(private readonly deps: ControlsDeps) {
    this.stored = new RefreshingSnapshot<StoredControls>({
      initial: {
        snapshot: { forced: {}, switches: { ...deps.defaults } },
        switchRows: new Map(),
      },
      ttlMs: CONTROLS_CACHE_TTL_MS,
      read: () => this.read(),
      onReadError: (error) =>
        deps.logger.warn({ err: error }, 'provider controls unreadable; keeping the last known ones'),
    });
  }

  async snapshot(): Promise<ControlsSnapshot> {
    return (await this.stored.get()).snapshot;
  }

  peek(): ControlsSnapshot {
    return this.stored.peek().snapshot;
  }

  private async read(): Promise<StoredControls> {
    const [controls, switches] = await Promise.all([
      listProviderControls(this.deps.db),
      listRuntimeSwitches(this.deps.db),
    ]);
    const forced: ControlsSnapshot['forced'] = {};
    for (const row of controls) forced[row.provider as ProviderName] = row.forced_state;
    const switchRows = new Map(switches.map((row) => [row.name, row]));
    const values = { ...this.deps.defaults };
    for (const name of SWITCH_NAMES) {
      const row = switchRows.get(name);
      if (row) values[name] = row.enabled;
    }
    return { snapshot: { forced, switches: values }, switchRows };
  }

  async listSwitches(): Promise<SwitchObject[]> {
    const { switchRows } = await this.stored.reload();
    return SWITCH_NAMES.map((name) => toSwitchObject(name, this.deps.defaults[name], switchRows.get(name)));
  }

  /** Forces a provider's circuit open or closed, or returns it to automatic; audited with old and new. */
  async setCircuit(provider: ProviderName, state: CircuitRequest, actor: AuditActor, origin: AuditOrigin) {
    const { db, clock, audit } = this.deps;
    const result = await db.transaction().execute(async (trx) => {
      const before = await lockProviderControl(trx, provider);
      const oldValue = { forced_state: before?.forced_state ?? 'auto' };
      if (state === 'auto') await deleteProviderControl(trx, provider);
      else {
        await upsertProviderControl(trx, {
          provider,
          forced_state: state,
          updated_at: clock.now(),
          updated_by: actor.id ?? actor.type,
        });
      }
      const newValue = { forced_state: state };
      await audit.record(
        {
          actor,
          action: 'provider.circuit.set',
          resourceType: 'provider',
          resourceId: provider,
          outcome: 'success',
          origin,
          oldValue,
          newValue,
        },
        trx,
      );
      return { old: oldValue.forced_state, new: state };
    });
    await this.stored.reload();
    return result;
  }

  /** Sets a run-time switch; audited with old and new value. */
  async setSwitch(name: SwitchName, enabled: boolean, actor: AuditActor, origin: AuditOrigin) {
    const { db, clock, audit } = this.deps;
    await db.transaction().execute(async (trx) => {
      const before = await lockRuntimeSwitch(trx, name);
      const after = await upsertRuntimeSwitch(trx, {
        name,
        enabled,
        updated_at: clock.now(),
        updated_by: actor.id ?? actor.type,
      });
      await audit.record(
        {
          actor,
          action: 'runtime_switch.set',
          resourceType: 'runtime_switch',
          resourceId: name,
          outcome: 'success',
          origin,
          oldValue: toSwitchObject(name, this.deps.defaults[name], before),
          newValue: toSwitchObject(name, this.deps.defaults[name], after),
        },
        trx,
      );
    });
    const { switchRows } = await this.stored.reload();
    return toSwitchObject(name, this.deps.defaults[name], switchRows.get(name));
  }
}
