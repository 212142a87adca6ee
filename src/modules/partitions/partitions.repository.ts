// SQL of partition maintenance: list, create (moving any rows the default partition took for that
// month), drop, and the checks retention makes first. Names come from PARTITIONED_TABLES and
// partitionName(), never from a caller; bounds are UTC instants this module formats itself.
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import {
  addMonths,
  defaultPartitionName,
  PARTITIONED_TABLES,
  type PartitionedTable,
  type PartitionedTableName,
  partitionName,
} from './partitions.js';

type Executor = Kysely<Database> | Transaction<Database>;

/** Serialises partition creation across replicas (creating the same table twice at once fails). */
const CREATE_LOCK = 8_230_001;

export interface PartitionRow {
  parent: PartitionedTableName;
  partition: string;
  approx_rows: number;
}

export async function listPartitions(db: Executor): Promise<PartitionRow[]> {
  const parents = PARTITIONED_TABLES.map((table) => table.name);
  const result = await sql<PartitionRow>`
    select p.relname as parent, c.relname as partition, c.reltuples::float8 as approx_rows
    from pg_inherits i
    join pg_class c on c.oid = i.inhrelid
    join pg_class p on p.oid = i.inhparent
    where p.relname in (${sql.join(parents)}) and p.relnamespace = current_schema()::regnamespace
    order by p.relname, c.relname`.execute(db);
  return result.rows;
}

const bound = (at: Date) => sql.lit(at.toISOString());

/**
 * Creates `table`'s partition for `month` unless it exists. Rows the default partition took for that
 * month (written before the partition existed) move into it in the same transaction, since PostgreSQL
 * refuses a partition whose range the default partition already holds rows of.
 */
export async function createMonthPartition(
  db: Kysely<Database>,
  table: PartitionedTable,
  month: Date,
): Promise<boolean> {
  const name = partitionName(table.name, month);
  const parent = sql.id(table.name);
  const fallback = sql.id(defaultPartitionName(table.name));
  const key = sql.id(table.key);
  const inRange = sql`${key} >= ${month} and ${key} < ${addMonths(month, 1)}`;
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${CREATE_LOCK})`.execute(trx);
    const exists = await sql<{
      found: boolean;
    }>`select to_regclass(${name}::text) is not null as found`.execute(trx);
    if (exists.rows[0]?.found) return false;
    const strays = await sql<{ found: boolean }>`
      select exists (select 1 from ${fallback} where ${inRange}) as found`.execute(trx);
    const range = sql`for values from (${bound(month)}) to (${bound(addMonths(month, 1))})`;
    if (!strays.rows[0]?.found) {
      await sql`create table ${sql.id(name)} partition of ${parent} ${range}`.execute(trx);
      return true;
    }
    await sql`alter table ${parent} detach partition ${fallback}`.execute(trx);
    await sql`create table ${sql.id(name)} partition of ${parent} ${range}`.execute(trx);
    await sql`insert into ${parent} select * from ${fallback} where ${inRange}`.execute(trx);
    await sql`delete from ${fallback} where ${inRange}`.execute(trx);
    await sql`alter table ${parent} attach partition ${fallback} default`.execute(trx);
    return true;
  });
}

/** Whether a partition still holds rows with work to do (see PartitionedTable.openRows). */
export async function holdsOpenRows(db: Executor, table: PartitionedTable, partition: string) {
  if (!table.openRows) return false;
  const result = await sql<{ found: boolean }>`
    select exists (select 1 from ${sql.id(partition)} where ${sql.raw(table.openRows)}) as found`.execute(db);
  return result.rows[0]?.found === true;
}

/** How many rows of each status a partition holds (what a drop is about to remove, for the log). */
export async function statusCounts(db: Executor, partition: string) {
  const result = await sql<{ status: string; count: number }>`
    select status, count(*)::int as count from ${sql.id(partition)} group by status`.execute(db);
  return result.rows;
}

export async function dropPartition(db: Executor, partition: string): Promise<void> {
  await sql`drop table ${sql.id(partition)}`.execute(db);
}

/** Deletes the default partition's rows older than `cutoff` that have no work left; returns how many. */
export async function deleteOldDefaultRows(db: Executor, table: PartitionedTable, cutoff: Date) {
  const finished = table.openRows ? sql`and not (${sql.raw(table.openRows)})` : sql``;
  const result = await sql`
    delete from ${sql.id(defaultPartitionName(table.name))}
    where ${sql.id(table.ageColumn)} < ${cutoff} ${finished}`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
