// Operator controls over providers: a forced circuit state per provider and the run-time switches,
// with the shapes the admin API returns.
import { z } from 'zod';
import { unixSeconds } from '../../clock.js';
import { SWITCH_NAMES, type SwitchName } from '../../providers/resilience.js';
import { PROVIDER_NAMES } from '../../providers/routing.js';
import type { RuntimeSwitchRow } from './provider-controls.table.js';

export const providerNameSchema = z.enum(PROVIDER_NAMES as ['stripe', 'paypal', 'wallet']);
export const circuitRequestSchema = z.enum(['open', 'closed', 'auto']);
export type CircuitRequest = z.infer<typeof circuitRequestSchema>;
export const switchNameSchema = z.enum(SWITCH_NAMES);

export interface SwitchObject {
  object: 'runtime_switch';
  name: SwitchName;
  enabled: boolean;
  /** `default`: from the environment (CIRCUIT_BREAKER_ENABLED, FALLBACK_PROVIDER_ENABLED); `operator`: set at run time. */
  source: 'default' | 'operator';
  default: boolean;
  updated_at: number | null;
  updated_by: string | null;
}

export function toSwitchObject(
  name: SwitchName,
  fallback: boolean,
  row: RuntimeSwitchRow | undefined,
): SwitchObject {
  return {
    object: 'runtime_switch',
    name,
    enabled: row ? row.enabled : fallback,
    source: row ? 'operator' : 'default',
    default: fallback,
    updated_at: row ? unixSeconds(row.updated_at) : null,
    updated_by: row?.updated_by ?? null,
  };
}
