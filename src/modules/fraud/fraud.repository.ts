// SQL for fraud rules, blocklists and the check history. The history read is one statement whose parts
// are each an index range with a LIMIT (fraud_checks_card, _ip_declines, _customer_declines, the
// blocklist's unique key), so its cost does not grow with the table or with a busy card or IP.
import {
  type Insertable,
  type Kysely,
  type RawBuilder,
  sql,
  type Transaction,
  type Updateable,
} from 'kysely';
import type { Database } from '../../db/schema.js';
import type { FraudHistory } from './fraud.evaluate.js';
import type {
  BlocklistKind,
  FraudBlocklistRow,
  FraudBlocklistTable,
  FraudChecksTable,
  FraudRuleRow,
  FraudRulesTable,
} from './fraud.table.js';

type Executor = Kysely<Database> | Transaction<Database>;

export async function listRules(db: Executor): Promise<FraudRuleRow[]> {
  return db.selectFrom('fraud_rules').selectAll().orderBy('id').execute();
}

export async function findRule(db: Executor, id: string): Promise<FraudRuleRow | undefined> {
  return db.selectFrom('fraud_rules').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function lockRule(trx: Transaction<Database>, id: string): Promise<FraudRuleRow | undefined> {
  return trx.selectFrom('fraud_rules').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function updateRule(
  trx: Transaction<Database>,
  id: string,
  changes: Updateable<FraudRulesTable>,
): Promise<FraudRuleRow> {
  return trx
    .updateTable('fraud_rules')
    .set(changes)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function listBlocklist(db: Executor, kind?: BlocklistKind): Promise<FraudBlocklistRow[]> {
  let query = db.selectFrom('fraud_blocklist').selectAll();
  if (kind) query = query.where('kind', '=', kind);
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(1000).execute();
}

export async function findBlocklistEntry(
  db: Executor,
  kind: BlocklistKind,
  value: string,
): Promise<FraudBlocklistRow | undefined> {
  return db
    .selectFrom('fraud_blocklist')
    .selectAll()
    .where('kind', '=', kind)
    .where('value', '=', value)
    .executeTakeFirst();
}

/** Inserts an entry; an existing one for the same kind and value is kept (undefined answered). */
export async function insertBlocklistEntry(
  trx: Transaction<Database>,
  row: Insertable<FraudBlocklistTable>,
): Promise<FraudBlocklistRow | undefined> {
  return trx
    .insertInto('fraud_blocklist')
    .values(row)
    .onConflict((oc) => oc.columns(['kind', 'value']).doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function deleteBlocklistEntry(
  trx: Transaction<Database>,
  id: string,
): Promise<FraudBlocklistRow | undefined> {
  return trx.deleteFrom('fraud_blocklist').where('id', '=', id).returningAll().executeTakeFirst();
}

export async function insertCheck(trx: Executor, row: Insertable<FraudChecksTable>): Promise<void> {
  await trx.insertInto('fraud_checks').values(row).execute();
}

/** A decline of the attempt a check was recorded with (the card-testing rule counts these). */
export async function markCheckDeclined(trx: Transaction<Database>, attemptId: string): Promise<void> {
  await trx.updateTable('fraud_checks').set({ declined: true }).where('attempt_id', '=', attemptId).execute();
}

/** What one history read asks; a part left undefined is not read. */
export interface HistoryQuery {
  merchantId: string;
  livemode: boolean;
  blocklist?: { cardFingerprint: string | null; email: string | null; ip: string | null };
  card?: { fingerprint: string; since: Date; cap: number };
  location?: { fingerprint: string; since: Date };
  ipDeclines?: { ip: string; since: Date; cap: number };
  customerDeclines?: { customerId: string; since: Date; cap: number };
}

export async function readHistory(db: Executor, query: HistoryQuery): Promise<FraudHistory> {
  const { merchantId, livemode } = query;
  const parts: RawBuilder<unknown>[] = [];
  const capped = (rows: RawBuilder<unknown>, cap: number) =>
    sql`(select count(*)::int from (${rows} limit ${cap}) capped)`;
  if (query.blocklist) {
    const { cardFingerprint, email, ip } = query.blocklist;
    const pairs: RawBuilder<unknown>[] = [];
    if (cardFingerprint) pairs.push(sql`(kind = 'card_fingerprint' and value = ${cardFingerprint})`);
    if (email) pairs.push(sql`(kind = 'email' and value = ${email})`);
    if (ip) pairs.push(sql`(kind = 'ip_address' and value = ${ip})`);
    if (pairs.length > 0) {
      parts.push(
        sql`(select kind from fraud_blocklist where ${sql.join(pairs, sql` or `)} limit 1) as blocklisted`,
      );
    }
  }
  if (query.card) {
    const { fingerprint, since, cap } = query.card;
    parts.push(
      sql`${capped(
        sql`select 1 from fraud_checks where merchant_id = ${merchantId} and livemode = ${livemode}
          and card_fingerprint = ${fingerprint} and created_at > ${since}`,
        cap,
      )} as card_payments`,
    );
  }
  if (query.location) {
    const { fingerprint, since } = query.location;
    // The card's latest located payment in the window (the same index, newest first).
    parts.push(
      sql`(select array[latitude, longitude] from fraud_checks where merchant_id = ${merchantId}
        and livemode = ${livemode} and card_fingerprint = ${fingerprint} and created_at > ${since}
        and latitude is not null order by created_at desc limit 1) as previous_location`,
    );
  }
  if (query.ipDeclines) {
    const { ip, since, cap } = query.ipDeclines;
    parts.push(
      sql`${capped(
        sql`select 1 from fraud_checks where declined and shopper_ip = ${ip} and created_at > ${since}`,
        cap,
      )} as ip_declines`,
    );
  }
  if (query.customerDeclines) {
    const { customerId, since, cap } = query.customerDeclines;
    parts.push(
      sql`${capped(
        sql`select 1 from fraud_checks where declined and merchant_id = ${merchantId}
          and livemode = ${livemode} and customer_id = ${customerId} and created_at > ${since}`,
        cap,
      )} as customer_declines`,
    );
  }
  const empty: FraudHistory = {
    blocklisted: null,
    cardPayments: 0,
    previousLocation: null,
    ipDeclines: 0,
    customerDeclines: 0,
  };
  if (parts.length === 0) return empty;
  const result = await sql<{
    blocklisted?: BlocklistKind | null;
    card_payments?: number;
    previous_location?: unknown[] | null;
    ip_declines?: number;
    customer_declines?: number;
  }>`select ${sql.join(parts)}`.execute(db);
  const row = result.rows[0] ?? {};
  // float8[] arrives as numbers from one driver and may arrive as text from another.
  const [latitude, longitude] = (row.previous_location ?? []).map(Number);
  return {
    blocklisted: row.blocklisted ?? null,
    cardPayments: row.card_payments ?? 0,
    previousLocation:
      Number.isFinite(latitude) && Number.isFinite(longitude)
        ? { latitude: latitude as number, longitude: longitude as number }
        : null,
    ipDeclines: row.ip_declines ?? 0,
    customerDeclines: row.customer_declines ?? 0,
  };
}
