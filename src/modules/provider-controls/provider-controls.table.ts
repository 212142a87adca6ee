import type { ColumnType, Selectable } from 'kysely';

/** An operator's override of one provider's circuit; no row means automatic. */
export interface ProviderControlsTable {
  provider: string;
  forced_state: 'open' | 'closed';
  updated_at: Date;
  /** The operator id that set it. */
  updated_by: string;
}

/** A run-time switch set by an operator; no row means the environment's default. */
export interface RuntimeSwitchesTable {
  name: string;
  enabled: boolean;
  updated_at: ColumnType<Date, Date, Date>;
  updated_by: string;
}

export type ProviderControlRow = Selectable<ProviderControlsTable>;
export type RuntimeSwitchRow = Selectable<RuntimeSwitchesTable>;
