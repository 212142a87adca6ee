// Reports (issue 8, runbook 003): the daily summary per merchant, mode, local date, gateway and currency,
// the monthly compliance report and the security events summary. Shapes, input schemas and the CSV
// rendering live here so the HTTP routes and payctl (which renders CSV itself over --url) agree.
import { z } from 'zod';

/** The longest range one report covers: about a quarter, so a read stays bounded. */
export const MAX_REPORT_DAYS = 92;

export const REPORT_FORMATS = ['json', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export const formatSchema = z.enum(REPORT_FORMATS, { message: 'must be json or csv' });

/** A calendar date `YYYY-MM-DD` that exists (2026-02-30 is refused). */
export const localDate = () =>
  z.string().refine(
    (value) => {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
      const date = new Date(`${value}T00:00:00Z`);
      return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
    },
    { message: 'must be a date YYYY-MM-DD' },
  );

export const monthSchema = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, { message: 'must be a month YYYY-MM' });

/** Whole days from `from` to `to`, both included (UTC arithmetic on calendar dates, no zone involved). */
export function daysInRange(from: string, to: string): number {
  return (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000 + 1;
}

export interface DailySummaryRow {
  /** The merchant's local date (its IANA time zone), YYYY-MM-DD. */
  date: string;
  livemode: boolean;
  gateway: string;
  currency: string;
  /** Succeeded, captured charges created that local day. */
  count: number;
  /** Sum of the amounts captured, integer minor units of `currency`. */
  volume: number;
  /** volume / count rounded half up to a whole minor unit (0 when count is 0). */
  average: number;
  /** Succeeded refunds created that local day, by the gateway of the refunded charge. */
  refund_count: number;
  refund_amount: number;
}

export interface DailySummary {
  object: 'report.daily_summary';
  merchant: string;
  timezone: string;
  from: string;
  to: string;
  data: DailySummaryRow[];
}

/** Half up for non-negative integers: 150/100 -> 2, 149/100 -> 1. */
export function averageOf(volume: number, count: number): number {
  return count === 0 ? 0 : Math.floor((2 * volume + count) / (2 * count));
}

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** RFC 4180 CSV: a header row of `columns`, then one line per row, CRLF line ends. */
export function toCsv<R extends object>(rows: readonly R[], columns: readonly (keyof R & string)[]): string {
  const lines = [columns.join(',')];
  for (const row of rows) lines.push(columns.map((column) => csvCell(row[column])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export const DAILY_COLUMNS = [
  'date',
  'livemode',
  'gateway',
  'currency',
  'count',
  'volume',
  'average',
  'refund_count',
  'refund_amount',
] as const satisfies readonly (keyof DailySummaryRow)[];

/** Runbook 003's monthly compliance report: one row per mode and currency. */
export interface MonthlyRow {
  livemode: boolean;
  currency: string;
  /** Charges created in the month, whatever their outcome. */
  transactions: number;
  successful: number;
  failed: number;
  /** Captured amount of the successful charges, minor units. */
  volume: number;
  /** volume / successful, rounded half up. */
  average: number;
  refund_count: number;
  refund_amount: number;
  dispute_count: number;
  dispute_amount: number;
  disputes_lost: number;
}

export interface MonthlyReport {
  object: 'report.monthly_compliance';
  month: string;
  /** All merchants, or the one asked for; the month is cut in `timezone`. */
  merchant: string | null;
  timezone: string;
  data: MonthlyRow[];
}

export const MONTHLY_COLUMNS = [
  'livemode',
  'currency',
  'transactions',
  'successful',
  'failed',
  'volume',
  'average',
  'refund_count',
  'refund_amount',
  'dispute_count',
  'dispute_amount',
  'disputes_lost',
] as const satisfies readonly (keyof MonthlyRow)[];

/** Runbook 003's security events summary, from the audit log: one row per action and outcome. */
export interface SecurityRow {
  action: string;
  outcome: string;
  count: number;
  /** Distinct actors (operators, CLI users) and distinct origins (IP addresses) among them. */
  actors: number;
  origins: number;
}

export interface SecurityReport {
  object: 'report.security_summary';
  /** UTC dates, both included. */
  from: string;
  to: string;
  data: SecurityRow[];
}

export const SECURITY_COLUMNS = [
  'action',
  'outcome',
  'count',
  'actors',
  'origins',
] as const satisfies readonly (keyof SecurityRow)[];
