import type { Selectable } from 'kysely';

/** A feature flag's kill state; no row means the flag as defined (not killed, default rollouts). */
export interface FeatureFlagsTable {
  name: string;
  killed: boolean;
  killed_at: Date | null;
  /** The operator (or CLI user) that killed it last. */
  killed_by: string | null;
  /** The last change of any kind to the flag, and who made it. */
  updated_at: Date;
  updated_by: string;
}

/** One environment's rollout of a flag; no row means the flag's default percentage there. */
export interface FeatureFlagRolloutsTable {
  flag: string;
  environment: string;
  /** 0-100: the share of merchants and customers the flag admits in this environment. */
  percentage: number;
  updated_at: Date;
  updated_by: string;
}

export type FeatureFlagRow = Selectable<FeatureFlagsTable>;
export type FeatureFlagRolloutRow = Selectable<FeatureFlagRolloutsTable>;
