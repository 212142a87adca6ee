// Feature flags: the flags this service knows, the environments they roll out in, the inputs of
// runbook 002's flag API and the object it answers, and the rollout bucket a subject falls in.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { unixSeconds } from '../../clock.js';
import { boundedInteger, text } from '../../http/params.js';
import type { FeatureFlagRolloutRow, FeatureFlagRow } from './flags.table.js';

/** APP_ENV's values: each environment has its own rollout of every flag. */
export const ENVIRONMENTS = ['development', 'test', 'staging', 'production'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export const FLAG_NAMES = ['payments_live_v1'] as const;
export type FlagName = (typeof FLAG_NAMES)[number];

/** The payments kill switch and rollout of runbook 002. */
export const PAYMENTS_FLAG: FlagName = 'payments_live_v1';

interface FlagDefinition {
  description: string;
  /** The percentage of an environment with no stored rollout (100: a fresh install takes payments). */
  defaultRollout: number;
}

export const FLAG_DEFINITIONS: Record<FlagName, FlagDefinition> = {
  payments_live_v1: {
    description:
      'New payment confirmations. Killed, or a merchant or customer outside the rollout: 503 payments_disabled, nothing charged; captures, refunds, cancels, 3DS returns and webhooks are never blocked.',
    defaultRollout: 100,
  },
};

export const flagNameSchema = z.enum(FLAG_NAMES);
export const environmentSchema = z.enum(ENVIRONMENTS);

/** PATCH /v1/flags/:flag, as runbook 002 sends it: `{"environments":{"staging":{"rollout":{"value":10}}}}`. */
export const patchFields = {
  environments: z
    .partialRecord(
      environmentSchema,
      z.strictObject({ rollout: z.strictObject({ value: boundedInteger(0, 100) }) }),
    )
    .refine((environments) => Object.keys(environments).length > 0, {
      message: `must name at least one environment (${ENVIRONMENTS.join(', ')})`,
    }),
};

/** Kill and enable: an optional reason, kept in the audit row. */
export const switchFields = { reason: text(500).optional() };

export type Rollouts = Record<Environment, number>;

export interface Stamp {
  at: Date;
  by: string;
}

/** A flag as stored, with the defaults filled in. */
export interface FlagState {
  name: FlagName;
  killed: boolean;
  rollouts: Rollouts;
  /** Environments whose percentage was set by an operator, with when and by whom. */
  set: Partial<Record<Environment, Stamp>>;
  killedStamp: Stamp | null;
  /** The flag's last change, or null if it was never changed. */
  updated: Stamp | null;
}

export function flagStateOf(
  name: FlagName,
  row: FeatureFlagRow | undefined,
  rollouts: readonly FeatureFlagRolloutRow[],
): FlagState {
  const state: FlagState = {
    name,
    killed: row?.killed ?? false,
    rollouts: Object.fromEntries(
      ENVIRONMENTS.map((env) => [env, FLAG_DEFINITIONS[name].defaultRollout]),
    ) as Rollouts,
    set: {},
    killedStamp: row?.killed && row.killed_at ? { at: row.killed_at, by: row.killed_by ?? '' } : null,
    updated: row ? { at: row.updated_at, by: row.updated_by } : null,
  };
  for (const rollout of rollouts) {
    if (rollout.flag !== name) continue;
    const env = rollout.environment as Environment;
    state.rollouts[env] = rollout.percentage;
    state.set[env] = { at: rollout.updated_at, by: rollout.updated_by };
  }
  return state;
}

/** What an audit row keeps of a flag: its kill state and every environment's percentage. */
export function auditValueOf(state: FlagState) {
  return { killed: state.killed, rollouts: state.rollouts };
}

const seconds = (stamp: Stamp | undefined | null) => (stamp ? unixSeconds(stamp.at) : null);

/**
 * The flag as the API answers it: `enabled`/`killed`, this environment's `rollout`, every environment's
 * rollout and where it comes from, and the last change.
 */
export function toFlagObject(state: FlagState, environment: Environment) {
  const percentage = state.rollouts[environment];
  return {
    object: 'feature_flag' as const,
    name: state.name,
    description: FLAG_DEFINITIONS[state.name].description,
    enabled: !state.killed,
    killed: state.killed,
    killed_at: seconds(state.killedStamp),
    killed_by: state.killedStamp?.by ?? null,
    /** The environment this service runs in (APP_ENV), and the flag there. */
    environment,
    rollout: { value: percentage },
    state: state.killed ? 'killed' : percentage === 0 ? 'off' : percentage === 100 ? 'on' : 'partial',
    environments: Object.fromEntries(
      ENVIRONMENTS.map((env) => [
        env,
        {
          rollout: { value: state.rollouts[env] },
          source: state.set[env] ? 'operator' : 'default',
          updated_at: seconds(state.set[env]),
          updated_by: state.set[env]?.by ?? null,
        },
      ]),
    ),
    updated_at: seconds(state.updated),
    updated_by: state.updated?.by ?? null,
  };
}

export type FlagObject = ReturnType<typeof toFlagObject>;

/**
 * Where `subject` falls for `flag`, 0-99: the first 32 bits of SHA-256 over both, so the same subject
 * always gets the same answer, subjects spread evenly, and each flag splits them independently.
 * A percentage p admits the buckets below p: 0 admits none, 100 all.
 */
export function rolloutBucket(flag: string, subject: string): number {
  return createHash('sha256').update(`${flag}\u0000${subject}`).digest().readUInt32BE(0) % 100;
}
