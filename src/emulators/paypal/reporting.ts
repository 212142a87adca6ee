// Owns transaction search (GET /v1/reporting/transactions) with PayPal's real limits (DESIGN section
// 11): a window of at most 31 days, rows that appear only after a delay, at most 10,000 rows in the
// window (400 RESULTSET_TOO_LARGE beyond) and at most 500 per page. Each transaction's delay is fixed
// by its id (CRC32 of the id modulo the maximum, default 3 h), so a test knows when a row shows up;
// a maximum of 0 shows rows at once.
import { crc32 } from 'node:zlib';
import { invalidRequest, PayPalApiError } from './errors.js';
import { formatValue, wireAmount } from './money.js';
import type { PayPalStore } from './store.js';
import { isoTime } from './store.js';

export const DEFAULT_REPORTING_DELAY_SECONDS = 3 * 60 * 60;
const MAX_WINDOW_MS = 31 * 86_400_000;
const MAX_ROWS = 10_000;
const MAX_PAGE_SIZE = 500;

interface Row {
  id: string;
  date: number;
  info: Record<string, unknown>;
}

/** When a transaction created at `createdMs` becomes visible to search. */
export function visibleAt(id: string, createdMs: number, maxDelaySeconds: number): number {
  return maxDelaySeconds <= 0 ? createdMs : createdMs + (crc32(id) % (maxDelaySeconds + 1)) * 1000;
}

function rows(store: PayPalStore, account: string): Row[] {
  const out: Row[] = [];
  for (const capture of store.all('capture')) {
    if (capture.account !== account) continue;
    const { currency } = capture.amount;
    out.push({
      id: capture.id,
      date: Date.parse(capture.create_time),
      info: {
        paypal_account_id: account,
        transaction_id: capture.id,
        paypal_reference_id: capture.order_id,
        paypal_reference_id_type: 'ODR',
        transaction_event_code: 'T0006',
        transaction_initiation_date: capture.create_time,
        transaction_updated_date: capture.update_time,
        transaction_amount: wireAmount(capture.amount),
        fee_amount: { currency_code: currency, value: formatValue(-capture.fee, currency) },
        transaction_status: capture.status === 'DECLINED' ? 'D' : 'S',
        ...(capture.custom_id ? { custom_field: capture.custom_id } : {}),
        ...(capture.invoice_id ? { invoice_id: capture.invoice_id } : {}),
      },
    });
  }
  for (const refund of store.all('refund')) {
    if (refund.account !== account) continue;
    const { currency } = refund.amount;
    out.push({
      id: refund.id,
      date: Date.parse(refund.create_time),
      info: {
        paypal_account_id: account,
        transaction_id: refund.id,
        paypal_reference_id: refund.capture_id,
        paypal_reference_id_type: 'TXN',
        transaction_event_code: 'T1107',
        transaction_initiation_date: refund.create_time,
        transaction_updated_date: refund.update_time,
        transaction_amount: { currency_code: currency, value: formatValue(-refund.amount.minor, currency) },
        fee_amount: { currency_code: currency, value: formatValue(0, currency) },
        transaction_status: 'S',
        ...(refund.custom_id ? { custom_field: refund.custom_id } : {}),
        ...(refund.invoice_id ? { invoice_id: refund.invoice_id } : {}),
      },
    });
  }
  return out;
}

function dateParam(query: Record<string, unknown>, name: string): number {
  const value = query[name];
  if (typeof value !== 'string' || !value) {
    throw invalidRequest('MISSING_REQUIRED_PARAMETER', `${name} is required`, name, 'query');
  }
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw invalidRequest('INVALID_PARAMETER_SYNTAX', `${name} must be an ISO 8601 date-time`, name, 'query');
  }
  return ms;
}

function intParam(query: Record<string, unknown>, name: string, fallback: number, max: number): number {
  const value = query[name];
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw invalidRequest(
      'INVALID_PARAMETER_VALUE',
      `${name} must be an integer from 1 to ${max}`,
      name,
      'query',
    );
  }
  return n;
}

export function searchTransactions(
  store: PayPalStore,
  account: string,
  query: Record<string, unknown>,
  now: Date,
  maxDelaySeconds: number,
  apiUrl: string,
) {
  const start = dateParam(query, 'start_date');
  const end = dateParam(query, 'end_date');
  if (end < start) {
    throw invalidRequest(
      'INVALID_PARAMETER_VALUE',
      'end_date must not be before start_date',
      'end_date',
      'query',
    );
  }
  if (end - start > MAX_WINDOW_MS) {
    // PayPal puts the sentence itself in `issue` here, not an upper-case code.
    const issue = 'Date range is greater than 31 days';
    throw new PayPalApiError(400, [{ field: 'start_date', location: 'query', issue, description: issue }]);
  }
  const pageSize = intParam(query, 'page_size', 100, MAX_PAGE_SIZE);
  const page = intParam(query, 'page', 1, 1_000_000);
  const wanted = typeof query['transaction_id'] === 'string' ? query['transaction_id'] : null;
  const nowMs = now.getTime();
  const matching = rows(store, account)
    .filter(
      (row) => row.date >= start && row.date <= end && visibleAt(row.id, row.date, maxDelaySeconds) <= nowMs,
    )
    .filter((row) => !wanted || row.id === wanted)
    .sort((a, b) => a.date - b.date || (a.id < b.id ? -1 : 1));
  if (matching.length > MAX_ROWS) {
    throw new PayPalApiError(
      400,
      [],
      'RESULTSET_TOO_LARGE',
      'Result set size is greater than the maximum limit. Change the filter criteria and try again.',
    );
  }
  const totalPages = Math.max(1, Math.ceil(matching.length / pageSize));
  const slice = matching.slice((page - 1) * pageSize, page * pageSize);
  const self = `${apiUrl}/v1/reporting/transactions?start_date=${encodeURIComponent(new Date(start).toISOString())}&end_date=${encodeURIComponent(new Date(end).toISOString())}&page_size=${pageSize}`;
  return {
    transaction_details: slice.map((row) => ({ transaction_info: row.info })),
    account_number: account,
    start_date: isoTime(new Date(start)),
    end_date: isoTime(new Date(end)),
    last_refreshed_datetime: isoTime(now),
    page,
    total_items: matching.length,
    total_pages: totalPages,
    links: [
      { href: `${self}&page=${page}`, rel: 'self', method: 'GET' },
      ...(page < totalPages ? [{ href: `${self}&page=${page + 1}`, rel: 'next', method: 'GET' }] : []),
      { href: `${self}&page=${totalPages}`, rel: 'last', method: 'GET' },
    ],
  };
}
