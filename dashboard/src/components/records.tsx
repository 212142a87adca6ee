// A generic view of records whose exact shape the screen does not depend on (timeline entries): the
// fields people look for first as columns, and the whole record one click away.
import { time } from '../format';
import { DataTable } from './table';

type RecordLike = Record<string, unknown>;

const TIME_KEYS = ['created', 'at', 'received_at', 'posted_at', 'delivered_at'];
const WHAT_KEYS = ['type', 'action', 'status', 'outcome', 'kind', 'decision', 'state'];

const pick = (row: RecordLike, keys: string[]) => {
  for (const key of keys) if (row[key] !== undefined && row[key] !== null) return row[key];
  return undefined;
};

const show = (value: unknown) =>
  value === undefined || value === null
    ? '—'
    : typeof value === 'object'
      ? JSON.stringify(value)
      : String(value);

export function RecordTable({ caption, rows }: { caption: string; rows: unknown }) {
  const list: RecordLike[] = Array.isArray(rows)
    ? rows
    : rows && typeof rows === 'object'
      ? [rows as RecordLike]
      : [];
  return (
    <DataTable
      caption={caption}
      rows={list}
      rowKey={(row) => String(row.id ?? JSON.stringify(row))}
      empty="None."
      columns={[
        {
          label: 'When',
          render: (row) => {
            const at = pick(row, TIME_KEYS);
            return typeof at === 'number' || typeof at === 'string' ? time(at) : '—';
          },
        },
        {
          label: 'What',
          // A ledger posting reads as its kind and the account it moved (e.g. "charge: merchant_balance increase").
          render: (row) =>
            row.account_type
              ? `${show(pick(row, WHAT_KEYS))}: ${show(row.account_type)} ${show(row.direction)}`
              : show(pick(row, WHAT_KEYS)),
        },
        { label: 'Id', render: (row) => show(row.id ?? row.transaction) },
        {
          label: 'Amount',
          render: (row) =>
            show(pick(row, ['amount', 'debit', 'credit', 'score', 'status_code', 'last_status_code'])),
        },
        {
          label: 'Details',
          render: (row) => (
            <details>
              <summary>Show</summary>
              <pre>{JSON.stringify(row, null, 2)}</pre>
            </details>
          ),
        },
      ]}
    />
  );
}
