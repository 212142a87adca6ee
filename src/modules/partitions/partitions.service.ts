// Data lifecycle of the partitioned tables (issue 8, runbook 003): monthly partitions made ahead of
// need, and retention that drops a whole month once all of it is older than the table's retention.
// A partition still holding open rows (a delivery retrying, an inbound event not processed) is kept
// and reported instead. The default partition, which only takes rows when no month was made for them,
// is trimmed row by row. Operators' purges are audited; the scheduled run logs.
import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import type { Logger } from '../../observability/logger.js';
import type { AuditActor, AuditOrigin } from '../audit/audit.js';
import type { AuditService } from '../audit/audit.service.js';
import {
  addMonths,
  defaultPartitionName,
  monthOfPartition,
  monthStart,
  PARTITIONED_TABLES,
  type PartitionedTable,
  type PartitionInfo,
  type PurgeResult,
  partitionName,
  type RetentionClass,
  type RetentionOutcome,
} from './partitions.js';
import {
  createMonthPartition,
  deleteOldDefaultRows,
  dropPartition,
  holdsOpenRows,
  listPartitions,
  statusCounts,
} from './partitions.repository.js';

const DAY_MS = 86_400_000;

export interface PartitionsDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  logger: Logger;
  /** Months made ahead of the current one. */
  aheadMonths: number;
  retentionDays: Record<RetentionClass, number>;
}

export class PartitionsService {
  constructor(private readonly deps: PartitionsDeps) {}

  /** Makes the current month's partition and the next `aheadMonths`; returns the ones it created. */
  async ensureAhead(now: Date = this.deps.clock.now()): Promise<string[]> {
    const created: string[] = [];
    const first = monthStart(now);
    // One read in the common case (every month already there), so a start or a run costs one query.
    const existing = new Set((await listPartitions(this.deps.db)).map((row) => row.partition));
    for (const table of PARTITIONED_TABLES) {
      for (let n = 0; n <= this.deps.aheadMonths; n++) {
        const month = addMonths(first, n);
        if (existing.has(partitionName(table.name, month))) continue;
        if (await createMonthPartition(this.deps.db, table, month))
          created.push(`${table.name}@${month.toISOString()}`);
      }
    }
    if (created.length > 0) this.deps.logger.info({ created }, 'partitions created ahead');
    return created;
  }

  async list(): Promise<{ object: 'list'; data: PartitionInfo[] }> {
    const rows = await listPartitions(this.deps.db);
    const data = rows.map((row): PartitionInfo => {
      const month = monthOfPartition(row.parent, row.partition);
      return {
        table: row.parent,
        partition: row.partition,
        from: month ? month.toISOString() : null,
        to: month ? addMonths(month, 1).toISOString() : null,
        approx_rows: row.approx_rows >= 0 ? row.approx_rows : null,
      };
    });
    return { object: 'list', data };
  }

  /** The scheduled run: every table against its configured retention. */
  async applyRetention(now: Date = this.deps.clock.now()): Promise<RetentionOutcome[]> {
    const outcomes: RetentionOutcome[] = [];
    for (const table of PARTITIONED_TABLES) {
      const cutoff = new Date(now.getTime() - this.deps.retentionDays[table.retention] * DAY_MS);
      outcomes.push(...(await this.retain(table, cutoff)));
    }
    return outcomes;
  }

  /**
   * Runbook 003's weekly "clear old webhook logs": outbound deliveries and their attempts, and the
   * inbound inbox, older than `olderThanDays` (whole months; see retain()). Audited.
   */
  async purgeWebhookLogs(
    olderThanDays: number,
    actor: AuditActor,
    origin?: AuditOrigin,
  ): Promise<PurgeResult> {
    const cutoff = new Date(this.deps.clock.now().getTime() - olderThanDays * DAY_MS);
    const results: RetentionOutcome[] = [];
    for (const table of PARTITIONED_TABLES.filter((t) => t.webhookLog)) {
      results.push(...(await this.retain(table, cutoff)));
    }
    await this.deps.audit.record({
      actor,
      action: 'maintenance.purge_webhook_logs',
      resourceType: 'partition',
      outcome: 'success',
      origin,
      newValue: {
        older_than_days: olderThanDays,
        cutoff: cutoff.toISOString(),
        dropped: results.filter((r) => r.action === 'dropped').map((r) => r.partition),
        kept_open_rows: results.filter((r) => r.action === 'kept_open_rows').map((r) => r.partition),
        default_rows_deleted: results
          .filter((r) => r.action === 'deleted_rows')
          .reduce((sum, r) => sum + (r.rows ?? 0), 0),
      },
    });
    return {
      object: 'webhook_log_purge',
      older_than_days: olderThanDays,
      cutoff: cutoff.toISOString(),
      results,
    };
  }

  /**
   * Drops every monthly partition of `table` whose whole month ends at or before `cutoff`, so a row is
   * kept at least the retention and at most a month longer; trims the default partition by row.
   */
  private async retain(table: PartitionedTable, cutoff: Date): Promise<RetentionOutcome[]> {
    const { db, logger } = this.deps;
    const outcomes: RetentionOutcome[] = [];
    const partitions = (await listPartitions(db)).filter((row) => row.parent === table.name);
    for (const row of partitions) {
      const month = monthOfPartition(table.name, row.partition);
      if (!month || addMonths(month, 1) > cutoff) continue;
      if (await holdsOpenRows(db, table, row.partition)) {
        logger.warn({ partition: row.partition }, 'partition past its retention kept: it holds open rows');
        outcomes.push({ table: table.name, partition: row.partition, action: 'kept_open_rows', rows: null });
        continue;
      }
      if (table.openRows) {
        const dead = (await statusCounts(db, row.partition)).find((count) => count.status === 'dead');
        if (dead)
          logger.warn({ partition: row.partition, dead: dead.count }, 'dropping dead rows never replayed');
      }
      await dropPartition(db, row.partition);
      logger.info(
        { partition: row.partition, cutoff: cutoff.toISOString() },
        'partition dropped by retention',
      );
      const rows = row.approx_rows >= 0 ? row.approx_rows : null;
      outcomes.push({ table: table.name, partition: row.partition, action: 'dropped', rows });
    }
    const deleted = await deleteOldDefaultRows(db, table, cutoff);
    if (deleted > 0) {
      const partition = defaultPartitionName(table.name);
      outcomes.push({ table: table.name, partition, action: 'deleted_rows', rows: deleted });
    }
    return outcomes;
  }
}
