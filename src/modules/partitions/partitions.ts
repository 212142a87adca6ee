// The partitioned tables (migration 0023), their monthly partitions' names and bounds, and the API
// shapes of the maintenance endpoints. A partition covers one UTC month [from, to) of its table's key.
import { z } from 'zod';

export type PartitionedTableName =
  | 'events'
  | 'webhook_deliveries'
  | 'webhook_delivery_attempts'
  | 'webhook_inbox';

/** Which retention setting governs a table. */
export type RetentionClass = 'events' | 'webhook_deliveries' | 'webhook_inbox';

export interface PartitionedTable {
  name: PartitionedTableName;
  /** The partition key column. */
  key: string;
  /** How old a row is, for the default partition's rows (the inbox keys on the provider's time). */
  ageColumn: string;
  retention: RetentionClass;
  /**
   * Rows that still have work to do (a delivery on its retry ladder, an inbound event not yet
   * processed): a partition holding any is kept past its retention, and the rest of it with it.
   */
  openRows?: string;
  /** What `purge-webhook-logs` covers: the outbound and inbound webhook logs. */
  webhookLog: boolean;
}

export const PARTITIONED_TABLES: readonly PartitionedTable[] = [
  { name: 'events', key: 'created_at', ageColumn: 'created_at', retention: 'events', webhookLog: false },
  {
    name: 'webhook_deliveries',
    key: 'event_created_at',
    ageColumn: 'created_at',
    retention: 'webhook_deliveries',
    openRows: "status in ('pending', 'failed')",
    webhookLog: true,
  },
  {
    name: 'webhook_delivery_attempts',
    key: 'attempted_at',
    ageColumn: 'attempted_at',
    retention: 'webhook_deliveries',
    webhookLog: true,
  },
  {
    name: 'webhook_inbox',
    key: 'occurred_at',
    ageColumn: 'received_at',
    retention: 'webhook_inbox',
    openRows: "status in ('pending', 'failed')",
    webhookLog: true,
  },
];

export function monthStart(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
}

export function addMonths(month: Date, count: number): Date {
  return new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + count, 1));
}

/** `events_2026_12` holds December 2026 (UTC) of `events`. */
export function partitionName(table: PartitionedTableName, month: Date): string {
  return `${table}_${month.getUTCFullYear()}_${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
}

export function defaultPartitionName(table: PartitionedTableName): string {
  return `${table}_default`;
}

/** The month a partition name stands for, or undefined for the default partition (or a stranger). */
export function monthOfPartition(table: PartitionedTableName, name: string): Date | undefined {
  const match = /^(\d{4})_(\d{2})$/.exec(name.slice(table.length + 1));
  if (!name.startsWith(`${table}_`) || !match) return undefined;
  return new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, 1));
}

/** A partition as the maintenance endpoints show it. */
export interface PartitionInfo {
  table: PartitionedTableName;
  partition: string;
  /** null for the default partition, which takes rows no monthly partition covers. */
  from: string | null;
  to: string | null;
  /** The planner's estimate (pg_class.reltuples); null before the first ANALYZE. */
  approx_rows: number | null;
}

export type PartitionAction = 'dropped' | 'kept_open_rows' | 'deleted_rows';

export interface RetentionOutcome {
  table: PartitionedTableName;
  partition: string;
  action: PartitionAction;
  /** Rows that went (exact for the default partition's delete; the estimate for a dropped partition). */
  rows: number | null;
}

export interface PurgeResult {
  object: 'webhook_log_purge';
  older_than_days: number;
  cutoff: string;
  results: RetentionOutcome[];
}

export const MAX_OLDER_THAN_DAYS = 3650;

/** `30d` or `30`: whole days, 1 to 3650 (runbook 003 purges webhook logs older than 30 days). */
export const olderThanSchema = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const match = /^(\d+)d?$/.exec(String(value).trim());
  const days = match ? Number(match[1]) : Number.NaN;
  if (!Number.isSafeInteger(days) || days < 1 || days > MAX_OLDER_THAN_DAYS) {
    ctx.addIssue({
      code: 'custom',
      message: `must be a number of days such as 30d or 30, from 1 to ${MAX_OLDER_THAN_DAYS} (got ${JSON.stringify(value)})`,
    });
    return z.NEVER;
  }
  return days;
});
