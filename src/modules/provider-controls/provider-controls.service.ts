// Owns the operators' provider controls in PostgreSQL and the cache every replica reads them through.
// The cache lives CACHE_TTL_MS (age measured with performance.now(), not business time), so a change on
// one replica is obeyed by every replica within about a second; a change made here is obeyed at once.
// If the database cannot be read, the last known controls stay in force (payments keep flowing).
import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.js';
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

export interface ControlsDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  logger: Logger;
  /** The environment's defaults: CIRCUIT_BREAKER_ENABLED, FALLBACK_PROVIDER_ENABLED. */
  defaults: Record<SwitchName, boolean>;
}

export class ProviderControlsService implements ControlsSource {
  private cached: ControlsSnapshot;
  private switchRows = new Map<string, RuntimeSwitchRow>();
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private refreshing: Promise<ControlsSnapshot> | undefined;

  constructor(private readonly deps: ControlsDeps) {
    this.cached = { forced: {}, switches: { ...deps.defaults } };
  }

  async snapshot(): Promise<ControlsSnapshot> {
    if (performance.now() - this.fetchedAt < CONTROLS_CACHE_TTL_MS) return this.cached;
    return this.refresh();
  }

  peek(): ControlsSnapshot {
    if (performance.now() - this.fetchedAt >= CONTROLS_CACHE_TTL_MS) void this.refresh();
    return this.cached;
  }

  /** One read at a time; concurrent callers share it. */
  refresh(): Promise<ControlsSnapshot> {
    this.refreshing ??= this.load().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** A read that starts after the caller's write (an in-flight read may predate it). */
  private async reload(): Promise<ControlsSnapshot> {
    await this.refreshing;
    return this.refresh();
  }

  private async load(): Promise<ControlsSnapshot> {
    try {
      const [controls, switches] = await Promise.all([
        listProviderControls(this.deps.db),
        listRuntimeSwitches(this.deps.db),
      ]);
      const forced: ControlsSnapshot['forced'] = {};
      for (const row of controls) forced[row.provider as ProviderName] = row.forced_state;
      this.switchRows = new Map(switches.map((row) => [row.name, row]));
      const values = { ...this.deps.defaults };
      for (const name of SWITCH_NAMES) {
        const row = this.switchRows.get(name);
        if (row) values[name] = row.enabled;
      }
      this.cached = { forced, switches: values };
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'provider controls unreadable; keeping the last known ones');
    }
    this.fetchedAt = performance.now();
    return this.cached;
  }

  async listSwitches(): Promise<SwitchObject[]> {
    await this.reload();
    return SWITCH_NAMES.map((name) =>
      toSwitchObject(name, this.deps.defaults[name], this.switchRows.get(name)),
    );
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
    await this.reload();
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
    await this.reload();
    return toSwitchObject(name, this.deps.defaults[name], this.switchRows.get(name));
  }
}
