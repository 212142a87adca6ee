// Computes reports on read from the payments tables and the audit log (on the read replica when
// READ_REPLICA_ENABLED): always current, with no summary table to refresh, and bounded by a range of at
// most MAX_REPORT_DAYS (charges, refunds and audit rows are indexed by time).
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { invalidParam } from '../../http/errors.js';
import { findMerchant } from '../merchants/merchants.repository.js';
import {
  averageOf,
  type DailySummary,
  type DailySummaryRow,
  daysInRange,
  MAX_REPORT_DAYS,
  type MonthlyReport,
  type MonthlyRow,
  type SecurityReport,
} from './reports.js';
import {
  type DailyAggregate,
  dailyPayments,
  dailyRefunds,
  type MonthlyCharges,
  type MonthlyTotals,
  monthlyCharges,
  monthlyDisputes,
  monthlyRefunds,
  securitySummary,
} from './reports.repository.js';

const DAY_MS = 86_400_000;

/** Refuses from > to and ranges over MAX_REPORT_DAYS, naming the parameter at fault. */
export function checkRange(from: string, to: string): void {
  const days = daysInRange(from, to);
  if (days < 1) throw invalidParam('from', `from (${from}) must not be after to (${to})`);
  if (days > MAX_REPORT_DAYS) {
    throw invalidParam('to', `the range from ${from} to ${to} is ${days} days; at most ${MAX_REPORT_DAYS}`);
  }
}

export class ReportsService {
  constructor(private readonly db: Kysely<Database>) {}

  async daily(merchantId: string, from: string, to: string): Promise<DailySummary> {
    checkRange(from, to);
    const merchant = await findMerchant(this.db, merchantId);
    if (!merchant) throw invalidParam('merchant', `No such merchant: '${merchantId}'`, 'resource_missing');
    // Local days start between UTC-14 h and UTC+12 h: a day either side covers every zone.
    const query = {
      merchantId,
      timezone: merchant.timezone,
      from,
      to,
      since: new Date(Date.parse(`${from}T00:00:00Z`) - DAY_MS),
      until: new Date(Date.parse(`${to}T00:00:00Z`) + 2 * DAY_MS),
    };
    const [payments, refunds] = await Promise.all([
      dailyPayments(this.db, query),
      dailyRefunds(this.db, query),
    ]);
    return {
      object: 'report.daily_summary',
      merchant: merchantId,
      timezone: merchant.timezone,
      from,
      to,
      data: mergeDaily(payments, refunds),
    };
  }

  /**
   * Runbook 003's monthly compliance report for `month` (YYYY-MM): of one merchant, the month cut in its
   * time zone, or of all merchants, cut in UTC.
   */
  async monthly(month: string, merchantId?: string): Promise<MonthlyReport> {
    let timezone = 'UTC';
    if (merchantId !== undefined) {
      const merchant = await findMerchant(this.db, merchantId);
      if (!merchant) throw invalidParam('merchant', `No such merchant: '${merchantId}'`, 'resource_missing');
      timezone = merchant.timezone;
    }
    const [year, monthNumber] = month.split('-').map(Number) as [number, number];
    const next =
      monthNumber === 12 ? `${year + 1}-01` : `${year}-${String(monthNumber + 1).padStart(2, '0')}`;
    const window = { merchantId, timezone, start: `${month}-01 00:00:00`, end: `${next}-01 00:00:00` };
    const [charges, refunds, disputes] = await Promise.all([
      monthlyCharges(this.db, window),
      monthlyRefunds(this.db, window),
      monthlyDisputes(this.db, window),
    ]);
    return {
      object: 'report.monthly_compliance',
      month,
      merchant: merchantId ?? null,
      timezone,
      data: mergeMonthly(charges, refunds, disputes),
    };
  }

  /** Runbook 003's security events summary over UTC dates `from`..`to`, from the audit log. */
  async security(from: string, to: string): Promise<SecurityReport> {
    checkRange(from, to);
    const since = new Date(`${from}T00:00:00Z`);
    const until = new Date(Date.parse(`${to}T00:00:00Z`) + DAY_MS);
    return {
      object: 'report.security_summary',
      from,
      to,
      data: await securitySummary(this.db, since, until),
    };
  }
}

function mergeMonthly(
  charges: MonthlyCharges[],
  refunds: MonthlyTotals[],
  disputes: MonthlyTotals[],
): MonthlyRow[] {
  const rows = new Map<string, MonthlyRow>();
  const rowFor = (a: { livemode: boolean; currency: string }) => {
    const key = `${a.livemode}\u0000${a.currency}`;
    let row = rows.get(key);
    if (!row) {
      row = {
        livemode: a.livemode,
        currency: a.currency,
        transactions: 0,
        successful: 0,
        failed: 0,
        volume: 0,
        average: 0,
        refund_count: 0,
        refund_amount: 0,
        dispute_count: 0,
        dispute_amount: 0,
        disputes_lost: 0,
      };
      rows.set(key, row);
    }
    return row;
  };
  for (const c of charges) {
    const row = rowFor(c);
    row.transactions = c.transactions;
    row.successful = c.successful;
    row.failed = c.failed;
    row.volume = Number(c.volume ?? 0);
    row.average = averageOf(row.volume, row.successful);
  }
  for (const r of refunds) {
    const row = rowFor(r);
    row.refund_count = r.count;
    row.refund_amount = Number(r.total ?? 0);
  }
  for (const d of disputes) {
    const row = rowFor(d);
    row.dispute_count = d.count;
    row.dispute_amount = Number(d.total ?? 0);
    row.disputes_lost = d.lost;
  }
  const order = (r: MonthlyRow) => `${r.livemode ? 1 : 0}${r.currency}`;
  return [...rows.values()].sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
}

/** One row per (date, mode, gateway, currency), sorted; currencies are never added together. */
function mergeDaily(payments: DailyAggregate[], refunds: DailyAggregate[]): DailySummaryRow[] {
  const rows = new Map<string, DailySummaryRow>();
  const rowFor = (a: DailyAggregate) => {
    const key = [a.date, a.livemode, a.gateway, a.currency].join('\u0000');
    let row = rows.get(key);
    if (!row) {
      row = {
        date: a.date,
        livemode: a.livemode,
        gateway: a.gateway,
        currency: a.currency,
        count: 0,
        volume: 0,
        average: 0,
        refund_count: 0,
        refund_amount: 0,
      };
      rows.set(key, row);
    }
    return row;
  };
  for (const a of payments) {
    const row = rowFor(a);
    row.count = a.count;
    row.volume = Number(a.total);
    row.average = averageOf(row.volume, row.count);
  }
  for (const a of refunds) {
    const row = rowFor(a);
    row.refund_count = a.count;
    row.refund_amount = Number(a.total);
  }
  const order = (r: DailySummaryRow) =>
    [r.date, r.livemode ? '1' : '0', r.gateway, r.currency].join('\u0000');
  return [...rows.values()].sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
}
