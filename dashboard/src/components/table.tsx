// A plain, accessible data table: a caption, column headers, and an empty state that says so. On a
// narrow screen the table scrolls sideways inside its own region (which is focusable for keyboards).
import type { ReactNode } from 'react';

export interface Column<T> {
  label: string;
  render(row: T): ReactNode;
}

export function DataTable<T>(props: {
  caption: string;
  rows: readonly T[] | undefined;
  columns: readonly Column<T>[];
  rowKey(row: T): string;
  empty?: string;
}) {
  const rows = props.rows ?? [];
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard
    <section className="table-scroll" tabIndex={0} aria-label={props.caption}>
      <table>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            {props.columns.map((column) => (
              <th key={column.label} scope="col">
                {column.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={props.columns.length} className="muted">
                {props.empty ?? 'Nothing to show.'}
              </td>
            </tr>
          ) : (
            rows.map((row) => (
              <tr key={props.rowKey(row)}>
                {props.columns.map((column) => (
                  <td key={column.label}>{column.render(row)}</td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </section>
  );
}
