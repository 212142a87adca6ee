import type { ColumnType, Selectable } from 'kysely';

type Json<T> = ColumnType<T, string, string>;

export type RunKind = 'window' | 'pending';
export type RunTrigger = 'operator' | 'cli' | 'schedule';
export type FindingKind =
  | 'status_mismatch'
  | 'unknown_at_our_side'
  | 'missing_at_provider'
  | 'duplicate'
  | 'unresolved';
export type FindingResolution = 'open' | 'settled' | 'refunding' | 'refunded' | 'adopting' | 'adopted';

/** What a run counted; matched records are counted only, never stored one by one. */
export interface RunCounts {
  provider_records: number;
  matched: number;
  status_mismatch: number;
  unknown_at_our_side: number;
  missing_at_provider: number;
  duplicate: number;
  unresolved: number;
  settled: number;
  checked?: number;
}

export interface ReconciliationRunsTable {
  id: string;
  kind: RunKind;
  trigger: RunTrigger;
  actor_id: string | null;
  status: 'running' | 'completed' | 'failed';
  window_start: Date;
  window_end: Date;
  providers: Json<string[]>;
  counts: Json<RunCounts>;
  error: string | null;
  created_at: ColumnType<Date, Date, never>;
  finished_at: Date | null;
}

export interface ReconciliationFindingsTable {
  id: string;
  run_id: string;
  created_at: ColumnType<Date, Date, never>;
  kind: FindingKind;
  provider: string;
  provider_payment_id: string | null;
  provider_charge_id: string | null;
  merchant_id: string | null;
  livemode: boolean | null;
  payment_intent_id: string | null;
  attempt_id: string | null;
  amount: number | null;
  currency: string | null;
  our_status: string | null;
  provider_status: string | null;
  resolution: FindingResolution;
  resolved_at: Date | null;
  resolved_by: string | null;
  detail: Json<Record<string, unknown>>;
}

export interface ReconciliationSeenTable {
  run_id: string;
  provider: string;
  provider_payment_id: string;
  payment_intent_id: string | null;
  attempt_id: string | null;
  paid: boolean;
}

export type RunRow = Selectable<ReconciliationRunsTable>;
export type FindingRow = Selectable<ReconciliationFindingsTable>;
